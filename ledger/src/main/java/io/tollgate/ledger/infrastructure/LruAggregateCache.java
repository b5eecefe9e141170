package io.tollgate.ledger.infrastructure;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.axonframework.common.Registration;
import org.axonframework.common.caching.Cache;

/**
 * A bounded, least-recently-used cache of loaded aggregates. Axon's {@code WeakReferenceCache}
 * loses its entries at every garbage collection, which under load means replaying a snapshot and
 * events for most commands; this one keeps the hottest {@code capacity} accounts until evicted.
 */
public class LruAggregateCache implements Cache {

  private final Map<Object, Object> entries;
  private final List<EntryListener> listeners = new CopyOnWriteArrayList<>();

  public LruAggregateCache(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("cache capacity must be positive, got " + capacity);
    }
    this.entries =
        new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Object, Object> eldest) {
            boolean evict = size() > capacity;
            if (evict) {
              listeners.forEach(listener -> listener.onEntryExpired(eldest.getKey()));
            }
            return evict;
          }
        };
  }

  @Override
  @SuppressWarnings("unchecked")
  public synchronized <K, V> V get(K key) {
    V value = (V) entries.get(key);
    if (value != null) {
      listeners.forEach(listener -> listener.onEntryRead(key, value));
    }
    return value;
  }

  @Override
  public synchronized void put(Object key, Object value) {
    Object previous = entries.put(key, value);
    listeners.forEach(
        listener -> {
          if (previous == null) {
            listener.onEntryCreated(key, value);
          } else {
            listener.onEntryUpdated(key, value);
          }
        });
  }

  @Override
  public synchronized boolean putIfAbsent(Object key, Object value) {
    if (entries.containsKey(key)) {
      return false;
    }
    put(key, value);
    return true;
  }

  @Override
  public synchronized boolean remove(Object key) {
    boolean removed = entries.remove(key) != null;
    if (removed) {
      listeners.forEach(listener -> listener.onEntryRemoved(key));
    }
    return removed;
  }

  @Override
  public synchronized void removeAll() {
    List.copyOf(entries.keySet()).forEach(this::remove);
  }

  @Override
  public synchronized boolean containsKey(Object key) {
    return entries.containsKey(key);
  }

  @Override
  @SuppressWarnings("unchecked")
  public synchronized <V> void computeIfPresent(
      Object key, java.util.function.UnaryOperator<V> update) {
    V current = (V) entries.get(key);
    if (current != null) {
      put(key, update.apply(current));
    }
  }

  public synchronized int size() {
    return entries.size();
  }

  @Override
  public Registration registerCacheEntryListener(EntryListener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }
}

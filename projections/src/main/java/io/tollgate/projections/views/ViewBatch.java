package io.tollgate.projections.views;

import io.tollgate.ledger.account.AccountEvent;
import io.tollgate.ledger.account.AccountEvent.BillingModeSet;
import io.tollgate.ledger.account.AccountEvent.BillingPeriodStarted;
import io.tollgate.ledger.account.AccountEvent.ChargeCorrected;
import io.tollgate.ledger.account.AccountEvent.CountCreditsAdded;
import io.tollgate.ledger.account.AccountEvent.CreditsAdded;
import io.tollgate.ledger.account.AccountEvent.KeyDisabled;
import io.tollgate.ledger.account.AccountEvent.KeyEnabled;
import io.tollgate.ledger.account.AccountEvent.KeyRegistered;
import io.tollgate.ledger.account.AccountEvent.RequestCharged;
import io.tollgate.ledger.account.AccountEvent.RequestFailed;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The views' changes from one batch of events, computed in memory and written at once. Events are
 * collected first and folded at the end, so the key rows they touch are read with one query per
 * batch, not one per event. Pure: no I/O of its own, so a test drives it as a plain object.
 */
public final class ViewBatch {

  /** cost_type and model of the period-usage row that collects corrections. */
  public static final String CORRECTION = "correction";

  public record PeriodKey(String keyId, String model, String costType) {}

  public record BucketKey(Instant bucket, String keyId, String model, String endpoint) {}

  /** An event waiting for the fold; {@code globalIndex} is {@link #UNRESOLVED} until resolved. */
  private record Pending(AccountEvent event, long globalIndex, String eventId) {}

  private static final long UNRESOLVED = -1;

  private final List<Pending> pending = new ArrayList<>();

  private final Map<String, KeyStateRow> keys = new LinkedHashMap<>();
  private final Set<String> periodResets = new HashSet<>();
  private final Map<PeriodKey, UsageDelta> periodUsage = new LinkedHashMap<>();
  private final Map<BucketKey, UsageDelta> buckets = new LinkedHashMap<>();
  private final List<HistoryRow> history = new ArrayList<>();

  private final boolean hourly;

  private int skipped;

  /** A batch that keeps every view, the hourly usage buckets too. */
  public ViewBatch() {
    this(true);
  }

  /**
   * @param hourly whether to keep the hourly usage buckets; a rebuild aggregates them from the
   *     billing history it wrote instead (see {@link RebuildTables#aggregateUsage})
   */
  public ViewBatch(boolean hourly) {
    this.hourly = hourly;
  }

  /** Adds an event whose global index is known, as a replay reads it from the store. */
  public void add(AccountEvent event, long globalIndex) {
    pending.add(new Pending(event, globalIndex, null));
  }

  /**
   * Adds an event known by its identifier only, as the live processor gets it: a tracking token's
   * position is the highest index it has seen, which for an event that filled a gap is not the
   * event's own. {@link #resolve} must give its index before the fold.
   */
  public void add(AccountEvent event, String eventId) {
    pending.add(new Pending(event, UNRESOLVED, eventId));
  }

  /** The identifiers of the events whose global index {@link #resolve} must give. */
  public Set<String> unresolvedIds() {
    Set<String> ids = new HashSet<>();
    for (Pending p : pending) {
      if (p.globalIndex() == UNRESOLVED) {
        ids.add(p.eventId());
      }
    }
    return ids;
  }

  /**
   * Gives the unresolved events their global indexes, read from the event store.
   *
   * @throws IllegalStateException if an event is not among {@code indexes}: the views cannot place
   *     it, and must not guess
   */
  public void resolve(Map<String, Long> indexes) {
    for (int i = 0; i < pending.size(); i++) {
      Pending p = pending.get(i);
      if (p.globalIndex() == UNRESOLVED) {
        Long index = indexes.get(p.eventId());
        if (index == null) {
          throw new IllegalStateException(
              "event " + p.eventId() + " is not in the event store; the views cannot place it");
        }
        pending.set(i, new Pending(p.event(), index, p.eventId()));
      }
    }
  }

  public boolean isEmpty() {
    return pending.isEmpty();
  }

  public int size() {
    return pending.size();
  }

  /** Events {@link #fold} passed over because the views already held them. */
  public int skipped() {
    return skipped;
  }

  /** The ids of the keys this batch touches, for loading their rows in one query. */
  public Set<String> keyIds() {
    Set<String> ids = new HashSet<>();
    pending.forEach(p -> ids.add(p.event().keyId()));
    return ids;
  }

  /**
   * Folds the collected events, in order, onto the keys' current rows.
   *
   * @param current the stored rows of {@link #keyIds()}; a key without a row must be registered by
   *     this batch
   */
  public void fold(Function<String, KeyStateRow> current) {
    Map<String, KeyStateRow> loaded = new HashMap<>();
    for (Pending p : pending) {
      if (p.globalIndex() == UNRESOLVED) {
        throw new IllegalStateException("event " + p.eventId() + " folded before it was resolved");
      }
      apply(p.event(), p.globalIndex(), loaded, current);
    }
    pending.clear();
  }

  private void apply(
      AccountEvent event,
      long globalIndex,
      Map<String, KeyStateRow> loaded,
      Function<String, KeyStateRow> current) {
    String keyId = event.keyId();
    KeyStateRow row = keys.get(keyId);
    boolean inBatch = row != null;
    if (row == null) {
      row = loaded.computeIfAbsent(keyId, current);
    }
    if (row != null && globalIndex <= row.lastGlobalIndex()) {
      // Already applied: a key's events are stored one transaction after the other, so its global
      // indexes rise with its sequence and the row's last index says what it holds. Axon's event
      // stream can deliver an event twice when concurrent writers leave gaps in the index (the
      // shared and the private stream then disagree about the gaps); applying it again would
      // count a charge twice.
      skipped++;
      return;
    }
    if (event instanceof KeyRegistered registered) {
      if (row != null) {
        throw new IllegalStateException(
            "key " + keyId + " registered twice (event " + globalIndex + ")");
      }
      row = KeyStateRow.registered(registered, globalIndex);
    } else {
      if (row == null) {
        throw new IllegalStateException(
            "event "
                + globalIndex
                + " ("
                + event.getClass().getSimpleName()
                + ") for unregistered key "
                + keyId);
      }
      row.apply(event, globalIndex);
    }
    if (!inBatch) {
      keys.put(keyId, row); // a registration, or the key's first event in this batch
    }
    usage(event);
    history.add(historyRow(event, globalIndex, row));
  }

  private void usage(AccountEvent event) {
    if (event instanceof RequestCharged e) {
      if (hourly) {
        bucket(e.keyId(), e.model(), e.endpoint(), e.completedAt())
            .add(1, 1, e.promptTokens(), e.completionTokens(), e.usd());
      }
      if (e.inPeriod()) {
        periodUsage
            .computeIfAbsent(
                new PeriodKey(e.keyId(), e.model(), e.costType().wireName()), k -> new UsageDelta())
            .add(1, 1, e.promptTokens(), e.completionTokens(), e.usd());
      }
    } else if (event instanceof RequestFailed e) {
      if (hourly) {
        bucket(e.keyId(), e.model(), e.endpoint(), e.completedAt())
            .add(1, 0, 0, 0, BigDecimal.ZERO);
      }
    } else if (event instanceof ChargeCorrected e) {
      periodUsage
          .computeIfAbsent(new PeriodKey(e.keyId(), CORRECTION, CORRECTION), k -> new UsageDelta())
          .add(0, 0, 0, 0, e.usdDelta());
    } else if (event instanceof BillingPeriodStarted e) {
      // What the old period spent is no longer shown: drop the stored rows and this batch's deltas.
      periodResets.add(e.keyId());
      periodUsage.keySet().removeIf(k -> k.keyId().equals(e.keyId()));
    }
  }

  private UsageDelta bucket(String keyId, String model, String endpoint, Instant completedAt) {
    Instant hour = completedAt.truncatedTo(ChronoUnit.HOURS);
    return buckets.computeIfAbsent(
        new BucketKey(hour, keyId, model, endpoint == null ? "" : endpoint), k -> new UsageDelta());
  }

  private static final ClassValue<String> EVENT_TYPES =
      new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
          return snakeCase(type.getSimpleName());
        }
      };

  /** {@code request_charged} for {@code RequestCharged}, worked out once per event class. */
  static String eventType(AccountEvent event) {
    return EVENT_TYPES.get(event.getClass());
  }

  private static String snakeCase(String name) {
    StringBuilder snake = new StringBuilder();
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c) && i > 0) {
        snake.append('_');
      }
      snake.append(Character.toLowerCase(c));
    }
    return snake.toString();
  }

  private static HistoryRow historyRow(AccountEvent event, long globalIndex, KeyStateRow after) {
    String origin = null;
    String requestId = null;
    String model = null;
    String endpoint = null;
    String provider = null;
    Instant completedAt = null;
    String costType = null;
    Long prompt = null;
    Long completion = null;
    Boolean estimated = null;
    Boolean inPeriod = null;
    Integer status = null;
    BigDecimal usd = null;
    Long requests = null;
    String priceVersion = null;
    BigDecimal pricePrompt = null;
    BigDecimal priceCompletion = null;
    BigDecimal countPrice = null;
    String reason = null;
    if (event instanceof RequestCharged e) {
      requestId = e.requestId();
      model = e.model();
      endpoint = e.endpoint();
      provider = e.provider();
      completedAt = e.completedAt();
      costType = e.costType().wireName();
      prompt = e.promptTokens();
      completion = e.completionTokens();
      estimated = e.estimated();
      inPeriod = e.inPeriod();
      usd = e.usd();
      requests = e.requests();
      priceVersion = e.priceVersion();
      if (e.tokenPrice() != null) {
        pricePrompt = e.tokenPrice().prompt();
        priceCompletion = e.tokenPrice().completion();
      }
      countPrice = e.countPrice();
    } else if (event instanceof RequestFailed e) {
      requestId = e.requestId();
      model = e.model();
      endpoint = e.endpoint();
      provider = e.provider();
      completedAt = e.completedAt();
      status = e.httpStatus();
    } else if (event instanceof CreditsAdded e) {
      usd = e.amount();
      reason = e.reason();
      origin = "ADMIN";
    } else if (event instanceof CountCreditsAdded e) {
      requests = e.amount();
      reason = e.reason();
      origin = "ADMIN";
    } else if (event instanceof ChargeCorrected e) {
      requestId = e.requestId();
      usd = e.usdDelta();
      requests = e.requestsDelta();
      reason = e.reason();
    } else if (event instanceof BillingModeSet e) {
      origin = e.origin().name();
    } else if (event instanceof BillingPeriodStarted e) {
      origin = e.origin().name();
    } else if (event instanceof KeyDisabled e) {
      origin = e.origin().name();
      reason = e.reason();
    } else if (event instanceof KeyEnabled e) {
      origin = e.origin().name();
      reason = e.reason();
    } else {
      origin = "CONFIG"; // KeyRegistered and the grant changes only ever come from api.yaml
    }
    return new HistoryRow(
        globalIndex,
        event.keyId(),
        event.at(),
        eventType(event),
        origin,
        requestId,
        model,
        endpoint,
        provider,
        completedAt,
        after.billingMode().wireName(),
        costType,
        prompt,
        completion,
        estimated,
        inPeriod,
        status,
        usd,
        requests,
        priceVersion,
        pricePrompt,
        priceCompletion,
        countPrice,
        reason,
        after.credits(),
        after.countCredits(),
        after.spentUsd(),
        after.spentRequests(),
        after.periodStart());
  }

  public Collection<KeyStateRow> keyRows() {
    return keys.values();
  }

  public Set<String> periodResets() {
    return periodResets;
  }

  public Map<PeriodKey, UsageDelta> periodUsage() {
    return periodUsage;
  }

  public Map<BucketKey, UsageDelta> buckets() {
    return buckets;
  }

  public List<HistoryRow> history() {
    return history;
  }

  /** The history rows folded so far, handed over once: a long replay writes them as it goes. */
  public List<HistoryRow> drainHistory() {
    List<HistoryRow> drained = new ArrayList<>(history);
    history.clear();
    return drained;
  }
}

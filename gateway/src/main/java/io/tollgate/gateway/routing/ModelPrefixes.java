package io.tollgate.gateway.routing;

import java.util.Collection;
import java.util.Optional;

/**
 * uni-api's per-model settings match a model by prefix; Tollgate takes the longest match, never the
 * first in file order, and {@code default} only as a fallback (BEHAVIOUR.md section 3).
 */
public final class ModelPrefixes {

  public static final String DEFAULT = "default";

  private ModelPrefixes() {}

  public static Optional<String> longest(Collection<String> entries, String model) {
    String longest = null;
    for (String entry : entries) {
      if (!entry.equals(DEFAULT)
          && model.startsWith(entry)
          && (longest == null || entry.length() > longest.length())) {
        longest = entry;
      }
    }
    return Optional.ofNullable(longest);
  }
}

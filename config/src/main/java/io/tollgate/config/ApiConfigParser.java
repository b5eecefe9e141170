package io.tollgate.config;

import io.tollgate.contracts.KeyIds;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads {@code api.yaml} into an {@link ApiConfig}, refusing anything it cannot use with a message
 * that names the file, the entry, the line and the problem.
 *
 * <p>It walks SnakeYAML's node tree rather than letting SnakeYAML build Java objects: a scalar
 * keeps its source text, so {@code 0.001} becomes an exact {@link BigDecimal} (never a double), a
 * timestamp keeps its offset whether quoted or not, and a plain number is told apart from a quoted
 * string, which matters because the two mean different prices.
 */
public final class ApiConfigParser {

  private static final Pattern RATE_TERM = Pattern.compile("\\s*(\\d+)\\s*/\\s*([a-zA-Z]+)\\s*");

  private final String file;

  private ApiConfigParser(String file) {
    this.file = file;
  }

  public static ApiConfig parse(Path path) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(path + ": cannot be read: " + e.getMessage(), e);
    }
    return parse(path, new StringReader(text));
  }

  public static ApiConfig parse(Path nameForMessages, Reader reader) {
    return new ApiConfigParser(nameForMessages.toString()).read(nameForMessages, reader);
  }

  private ApiConfig read(Path source, Reader reader) {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      root = new Yaml(options).compose(reader);
    } catch (YAMLException e) {
      throw new ConfigException(file + ": is not valid YAML: " + e.getMessage(), e);
    }
    if (root == null) {
      throw new ConfigException(file + ": is empty");
    }
    Map<String, Node> top = mapping(root, "the top level");
    List<Provider> providers = new ArrayList<>();
    Node providersNode = top.get("providers");
    if (providersNode != null) {
      List<Node> items = sequence(providersNode, "providers");
      for (int i = 0; i < items.size(); i++) {
        providers.add(provider(items.get(i), "providers[" + i + "]"));
      }
    }
    Map<String, Node> preferences =
        top.containsKey("preferences") ? mapping(top.get("preferences"), "preferences") : Map.of();
    List<ApiKeyEntry> keys = new ArrayList<>();
    Node keysNode = top.get("api_keys");
    if (keysNode != null) {
      List<Node> items = sequence(keysNode, "api_keys");
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < items.size(); i++) {
        ApiKeyEntry entry = apiKey(items.get(i), "api_keys[" + i + "]");
        if (!seen.add(entry.key())) {
          throw problem(
              items.get(i),
              "api_keys[" + i + "]",
              "the key " + display(entry.key()) + " is listed more than once");
        }
        keys.add(entry);
      }
    }
    return new ApiConfig(
        source,
        providers,
        keys,
        prices(preferences),
        durations(preferences.get("model_timeout"), "preferences.model_timeout"));
  }

  private Provider provider(Node node, String where) {
    Map<String, Node> fields = mapping(node, where);
    String name = requiredString(fields, "provider", where);
    String label = where + " (" + name + ")";
    String baseUrl = requiredString(fields, "base_url", label);
    List<String> upstreamKeys = new ArrayList<>();
    Node api = fields.get("api");
    if (api instanceof SequenceNode list) {
      for (Node item : list.getValue()) {
        upstreamKeys.add(string(item, label + ".api"));
      }
    } else if (api != null) {
      upstreamKeys.add(string(api, label + ".api"));
    }
    Map<String, String> models = new LinkedHashMap<>();
    Node modelNode = fields.get("model");
    if (modelNode != null) {
      for (Node item : sequence(modelNode, label + ".model")) {
        if (item instanceof MappingNode renamed) {
          for (Map.Entry<String, Node> rename : mapping(renamed, label + ".model").entrySet()) {
            models.put(
                string(rename.getValue(), label + ".model." + rename.getKey()), rename.getKey());
          }
        } else {
          String model = string(item, label + ".model");
          models.put(model, model);
        }
      }
    }
    Duration timeout = null;
    if (fields.containsKey("preferences")) {
      Map<String, Node> prefs = mapping(fields.get("preferences"), label + ".preferences");
      if (prefs.containsKey("timeout")) {
        timeout = seconds(prefs.get("timeout"), label + ".preferences.timeout");
      }
    }
    return new Provider(name, baseUrl, upstreamKeys, models, timeout);
  }

  private ApiKeyEntry apiKey(Node node, String where) {
    Map<String, Node> fields = mapping(node, where);
    String key = requiredString(fields, "api", where);
    String label = where + " (" + display(key) + ")";
    String role = fields.containsKey("role") ? string(fields.get("role"), label + ".role") : "";
    List<String> models = null;
    if (fields.containsKey("model")) {
      models = new ArrayList<>();
      Node modelNode = fields.get("model");
      if (modelNode instanceof ScalarNode) {
        models.add(string(modelNode, label + ".model"));
      } else {
        for (Node item : sequence(modelNode, label + ".model")) {
          models.add(string(item, label + ".model"));
        }
      }
    }
    Map<String, Node> prefs =
        fields.containsKey("preferences")
            ? mapping(fields.get("preferences"), label + ".preferences")
            : Map.of();
    String prefix = label + ".preferences";
    BillingMode mode = BillingMode.TOKEN;
    if (prefs.containsKey("billing_mode")) {
      String text = string(prefs.get("billing_mode"), prefix + ".billing_mode");
      mode =
          BillingMode.parse(text)
              .orElseThrow(
                  () ->
                      problem(
                          prefs.get("billing_mode"),
                          prefix + ".billing_mode",
                          "'" + text + "' is not a billing mode; expected token, count or hybrid"));
    }
    BigDecimal credits = KeyPreferences.UNLIMITED_CREDITS;
    if (prefs.containsKey("credits")) {
      credits = grant(prefs.get("credits"), prefix + ".credits");
    }
    long countCredits = KeyPreferences.UNLIMITED_COUNT;
    if (prefs.containsKey("count_credits")) {
      BigDecimal count = grant(prefs.get("count_credits"), prefix + ".count_credits");
      try {
        countCredits = count.longValueExact();
      } catch (ArithmeticException e) {
        throw problem(
            prefs.get("count_credits"),
            prefix + ".count_credits",
            "'" + count.toPlainString() + "' is not a whole number of requests");
      }
    }
    OffsetDateTime createdAt = null;
    if (prefs.containsKey("created_at")) {
      createdAt = timestamp(prefs.get("created_at"), prefix + ".created_at");
    }
    boolean enabled = true;
    if (prefs.containsKey("enabled")) {
      enabled = bool(prefs.get("enabled"), prefix + ".enabled");
    }
    List<RateLimit> limits = List.of();
    if (prefs.containsKey("rate_limit")) {
      limits = rateLimits(prefs.get("rate_limit"), prefix + ".rate_limit");
    }
    int maxRunning = 0;
    if (prefs.containsKey("max_running")) {
      maxRunning = maxRunning(prefs.get("max_running"), prefix + ".max_running");
    }
    return new ApiKeyEntry(
        key,
        role,
        models,
        new KeyPreferences(mode, credits, countCredits, createdAt, enabled, limits, maxRunning));
  }

  private PriceConfig prices(Map<String, Node> preferences) {
    boolean enabled = false;
    BigDecimal defaultCountPrice = null;
    Map<String, BigDecimal> countPrices = new LinkedHashMap<>();
    if (preferences.containsKey("count_billing")) {
      Map<String, Node> countBilling =
          mapping(preferences.get("count_billing"), "preferences.count_billing");
      if (countBilling.containsKey("enabled")) {
        enabled = bool(countBilling.get("enabled"), "preferences.count_billing.enabled");
      }
      if (countBilling.containsKey("default_count_price")) {
        defaultCountPrice =
            price(
                countBilling.get("default_count_price"),
                "preferences.count_billing.default_count_price");
      }
      if (countBilling.containsKey("model_count_prices")) {
        String where = "preferences.count_billing.model_count_prices";
        for (Map.Entry<String, Node> entry :
            mapping(countBilling.get("model_count_prices"), where).entrySet()) {
          countPrices.put(entry.getKey(), price(entry.getValue(), where + "." + entry.getKey()));
        }
      }
    }
    Map<String, ModelPrice> modelPrices = new LinkedHashMap<>();
    if (preferences.containsKey("model_price")) {
      for (Map.Entry<String, Node> entry :
          mapping(preferences.get("model_price"), "preferences.model_price").entrySet()) {
        String where = "preferences.model_price." + entry.getKey();
        modelPrices.put(entry.getKey(), modelPrice(entry.getValue(), where));
      }
    }
    return new PriceConfig(enabled, defaultCountPrice, countPrices, modelPrices);
  }

  private ModelPrice modelPrice(Node node, String where) {
    if (node instanceof MappingNode) {
      Map<String, Node> fields = mapping(node, where);
      for (String field : fields.keySet()) {
        if (!field.equals("token_price") && !field.equals("count_price")) {
          throw problem(
              fields.get(field),
              where,
              "unknown field '" + field + "'; expected token_price or count_price");
        }
      }
      TokenPrice tokens =
          fields.containsKey("token_price")
              ? tokenPrice(fields.get("token_price"), where + ".token_price")
              : null;
      BigDecimal count =
          fields.containsKey("count_price")
              ? price(fields.get("count_price"), where + ".count_price")
              : null;
      if (tokens == null && count == null) {
        throw problem(node, where, "has neither token_price nor count_price");
      }
      return new ModelPrice(tokens, count);
    }
    ScalarNode scalar = scalar(node, where);
    if (isNumber(scalar)) {
      return new ModelPrice(null, price(scalar, where));
    }
    return new ModelPrice(tokenPrice(scalar, where), null);
  }

  private TokenPrice tokenPrice(Node node, String where) {
    ScalarNode scalar = scalar(node, where);
    String[] parts = scalar.getValue().split(",", -1);
    if (parts.length > 2) {
      throw problem(
          node,
          where,
          "'"
              + scalar.getValue()
              + "' is not a token price; expected \"prompt,completion\" USD per 1M tokens");
    }
    BigDecimal prompt = decimal(node, where, parts[0]);
    BigDecimal completion = parts.length == 2 ? decimal(node, where, parts[1]) : prompt;
    if (prompt.signum() < 0 || completion.signum() < 0) {
      throw problem(node, where, "'" + scalar.getValue() + "' is a negative price");
    }
    return new TokenPrice(prompt, completion);
  }

  private BigDecimal price(Node node, String where) {
    ScalarNode scalar = scalar(node, where);
    BigDecimal value = decimal(node, where, scalar.getValue());
    if (value.signum() < 0) {
      throw problem(node, where, "'" + scalar.getValue() + "' is a negative price");
    }
    return value;
  }

  /** A cap on a key's calls at once: a whole number of at least 1. */
  private int maxRunning(Node node, String where) {
    String text = scalar(node, where).getValue().trim();
    try {
      int value = Integer.parseInt(text);
      if (value >= 1) {
        return value;
      }
    } catch (NumberFormatException notAWholeNumber) {
      // said below
    }
    throw problem(node, where, "'" + text + "' is not a number of calls; expected 1 or more");
  }

  /** A grant: a non-negative amount, or -1 for unlimited. */
  private BigDecimal grant(Node node, String where) {
    ScalarNode scalar = scalar(node, where);
    BigDecimal value = decimal(node, where, scalar.getValue());
    if (value.signum() < 0 && value.compareTo(BigDecimal.ONE.negate()) != 0) {
      throw problem(
          node, where, "'" + scalar.getValue() + "' is a negative grant; use -1 for unlimited");
    }
    return value.signum() < 0 ? BigDecimal.ONE.negate() : value;
  }

  private BigDecimal decimal(Node node, String where, String text) {
    try {
      return new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw problem(node, where, "'" + text.trim() + "' is not a number");
    }
  }

  private OffsetDateTime timestamp(Node node, String where) {
    String text = scalar(node, where).getValue().trim();
    String iso = text.replaceFirst("^(\\d{4}-\\d{2}-\\d{2})[ t]", "$1T").replace(" +", "+");
    try {
      return OffsetDateTime.parse(iso);
    } catch (DateTimeParseException notOffset) {
      try {
        return LocalDateTime.parse(iso).atOffset(ZoneOffset.UTC);
      } catch (DateTimeParseException notLocal) {
        try {
          return LocalDate.parse(iso).atStartOfDay().atOffset(ZoneOffset.UTC);
        } catch (DateTimeParseException notDate) {
          throw problem(
              node,
              where,
              "'"
                  + text
                  + "' is not a timestamp; expected ISO 8601 such as 2024-01-01T00:00:00+08:00");
        }
      }
    }
  }

  private Map<String, Duration> durations(Node node, String where) {
    Map<String, Duration> result = new LinkedHashMap<>();
    if (node == null) {
      return result;
    }
    if (node instanceof ScalarNode) {
      result.put(PriceConfig.DEFAULT_ENTRY, seconds(node, where));
      return result;
    }
    for (Map.Entry<String, Node> entry : mapping(node, where).entrySet()) {
      result.put(entry.getKey(), seconds(entry.getValue(), where + "." + entry.getKey()));
    }
    return result;
  }

  private Duration seconds(Node node, String where) {
    BigDecimal value = decimal(node, where, scalar(node, where).getValue());
    if (value.signum() <= 0) {
      throw problem(
          node, where, "'" + value.toPlainString() + "' is not a positive number of seconds");
    }
    return Duration.ofMillis(value.movePointRight(3).longValue());
  }

  private List<RateLimit> rateLimits(Node node, String where) {
    String text = string(node, where);
    List<RateLimit> limits = new ArrayList<>();
    for (String term : text.split(",")) {
      Matcher matcher = RATE_TERM.matcher(term);
      Duration window = matcher.matches() ? unit(matcher.group(2)) : null;
      if (window == null) {
        throw problem(
            node,
            where,
            "'" + term.trim() + "' is not a rate limit; expected N/unit such as 60/min");
      }
      int requests;
      try {
        requests = Integer.parseInt(matcher.group(1));
      } catch (NumberFormatException e) {
        throw problem(node, where, "'" + term.trim() + "' allows too many requests");
      }
      if (requests <= 0) {
        throw problem(node, where, "'" + term.trim() + "' allows no request at all");
      }
      limits.add(new RateLimit(requests, window));
    }
    return limits;
  }

  private static Duration unit(String unit) {
    return switch (unit.toLowerCase(Locale.ROOT)) {
      case "s", "sec", "second", "seconds" -> Duration.ofSeconds(1);
      case "m", "min", "minute", "minutes" -> Duration.ofMinutes(1);
      case "h", "hour", "hours" -> Duration.ofHours(1);
      case "d", "day", "days" -> Duration.ofDays(1);
      case "month", "months" -> Duration.ofDays(30);
      case "y", "year", "years" -> Duration.ofDays(365);
      default -> null;
    };
  }

  private boolean bool(Node node, String where) {
    ScalarNode scalar = scalar(node, where);
    return switch (scalar.getValue().trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw problem(node, where, "'" + scalar.getValue() + "' is not true or false");
    };
  }

  private String requiredString(Map<String, Node> fields, String name, String where) {
    Node node = fields.get(name);
    if (node == null) {
      throw new ConfigException(file + ": " + where + ": '" + name + "' is missing");
    }
    String value = string(node, where + "." + name);
    if (value.isBlank()) {
      throw problem(node, where + "." + name, "is empty");
    }
    return value;
  }

  private String string(Node node, String where) {
    return scalar(node, where).getValue();
  }

  private static boolean isNumber(ScalarNode scalar) {
    return scalar.getTag().equals(Tag.INT) || scalar.getTag().equals(Tag.FLOAT);
  }

  private ScalarNode scalar(Node node, String where) {
    if (node instanceof ScalarNode scalar) {
      return scalar;
    }
    throw problem(node, where, "expected a single value, found a " + kind(node));
  }

  private List<Node> sequence(Node node, String where) {
    if (node instanceof SequenceNode list) {
      return list.getValue();
    }
    throw problem(node, where, "expected a list, found a " + kind(node));
  }

  private Map<String, Node> mapping(Node node, String where) {
    if (!(node instanceof MappingNode map)) {
      throw problem(node, where, "expected a map, found a " + kind(node));
    }
    Map<String, Node> fields = new LinkedHashMap<>();
    for (NodeTuple tuple : map.getValue()) {
      String key = string(tuple.getKeyNode(), where);
      if (fields.put(key, tuple.getValueNode()) != null) {
        throw problem(tuple.getKeyNode(), where, "'" + key + "' appears more than once");
      }
    }
    return fields;
  }

  private static String kind(Node node) {
    if (node instanceof MappingNode) {
      return "map";
    }
    return node instanceof SequenceNode ? "list" : "single value";
  }

  private ConfigException problem(Node node, String where, String what) {
    int line = node.getStartMark() == null ? -1 : node.getStartMark().getLine() + 1;
    return new ConfigException(
        file + ": " + where + ": " + what + (line > 0 ? " (line " + line + ")" : ""));
  }

  /** Keys are secrets: messages show the 7-and-4 form uni-api shows in its listings. */
  private static String display(String key) {
    return KeyIds.displayPrefix(key);
  }
}

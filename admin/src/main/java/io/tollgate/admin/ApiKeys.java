package io.tollgate.admin;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiKeyEntry;
import io.tollgate.contracts.KeyIds;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The keys of api.yaml as the admin API sees them: who is calling, and which raw key a key id
 * belongs to (the views hold key ids only; uni-api's admin API shows full keys).
 *
 * <p>The caller's key is compared with every configured key through {@link MessageDigest#isEqual}
 * on their SHA-256 digests, never with {@code equals} or a hash lookup on the raw key, so the time
 * taken does not tell how many leading characters of a guess were right.
 */
public class ApiKeys {

  /** An authenticated caller. */
  public record Caller(ApiKeyEntry entry, String keyId) {
    public boolean isAdmin() {
      return entry.isAdmin();
    }
  }

  private record Known(ApiKeyEntry entry, byte[] digest, String keyId) {}

  private final List<Known> known;
  private final Map<String, ApiKeyEntry> byKeyId = new HashMap<>();

  public ApiKeys(ApiConfig config) {
    this.known =
        config.apiKeys().stream()
            .map(entry -> new Known(entry, digest(entry.key()), KeyIds.of(entry.key())))
            .toList();
    known.forEach(k -> byKeyId.put(k.keyId(), k.entry()));
  }

  /**
   * The caller, from {@code Authorization: Bearer} or {@code x-api-key}; 403 when missing or
   * unknown.
   */
  public Caller caller(HttpServletRequest request) {
    String presented = presentedKey(request);
    if (presented == null || presented.isEmpty()) {
      throw ApiError.forbidden("Invalid or missing API Key");
    }
    byte[] digest = digest(presented);
    Known match = null;
    for (Known candidate : known) {
      if (MessageDigest.isEqual(candidate.digest(), digest) && match == null) {
        match = candidate;
      }
    }
    if (match == null) {
      throw ApiError.forbidden("Invalid or missing API Key");
    }
    return new Caller(match.entry(), match.keyId());
  }

  /** The caller, who must hold a role containing "admin"; 403 otherwise. */
  public Caller admin(HttpServletRequest request) {
    Caller caller = caller(request);
    if (!caller.isAdmin()) {
      throw ApiError.forbidden(
          "This endpoint needs an admin API key; the key presented has no admin role.");
    }
    return caller;
  }

  public Optional<ApiKeyEntry> byKeyId(String keyId) {
    return Optional.ofNullable(byKeyId.get(keyId));
  }

  /** The raw key of a key id, or the key id itself for a key no longer in api.yaml. */
  public String rawKey(String keyId) {
    ApiKeyEntry entry = byKeyId.get(keyId);
    return entry == null ? keyId : entry.key();
  }

  /**
   * The key id of a raw key named in a parameter; 404 naming the parameter when it is not
   * configured.
   */
  public String keyIdOf(String param, String rawKey) {
    if (rawKey == null || rawKey.isBlank()) {
      throw ApiError.badParameter(param, "Parameter '" + param + "' is required.");
    }
    String keyId = KeyIds.of(rawKey);
    if (!byKeyId.containsKey(keyId)) {
      throw ApiError.notFound(param, "API key not found: " + KeyIds.displayPrefix(rawKey));
    }
    return keyId;
  }

  private static String presentedKey(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    String header = request.getHeader("x-api-key");
    return header == null ? null : header.trim();
  }

  private static byte[] digest(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }
}

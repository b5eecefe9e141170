package io.tollgate.gateway.proxy;

import io.tollgate.contracts.RequestCompleted;
import io.tollgate.gateway.admission.Admission;
import io.tollgate.gateway.admission.Admission.Admitted;
import io.tollgate.gateway.admission.Admission.Refused;
import io.tollgate.gateway.admission.BalanceView;
import io.tollgate.gateway.events.RequestOutbox;
import io.tollgate.gateway.routing.Route;
import io.tollgate.gateway.routing.Routes;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * One proxied call, from the caller's request to the published {@link RequestCompleted}: admit, try
 * the routes in turn, relay the answer as it arrives, measure the tokens, publish.
 *
 * <p>Nothing of the caller's request goes upstream but its JSON body (with the upstream's model
 * name): no header, so neither the caller's Tollgate key nor anything else it sent leaks. Nothing
 * of the upstream's response comes back but its status, content type and body.
 */
public final class ProxyHandler {

  private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

  private static final int READ_BUFFER = 8192;

  private static final int SIZED_READ_LIMIT = 1 << 20;

  private final Admission admission;
  private final BalanceView balances;
  private final Routes routes;
  private final RequestOutbox outbox;
  private final CloseableHttpClient http;
  private final ObjectMapper json;
  private final TokenEstimator tokens;

  public ProxyHandler(
      Admission admission,
      BalanceView balances,
      Routes routes,
      RequestOutbox outbox,
      CloseableHttpClient http,
      ObjectMapper json,
      TokenEstimator tokens) {
    this.admission = admission;
    this.balances = balances;
    this.routes = routes;
    this.outbox = outbox;
    this.http = http;
    this.json = json;
    this.tokens = tokens;
  }

  /** What became of the call, for its event. */
  private record Result(String provider, boolean success, int status, Usage usage) {}

  /**
   * What a relayed answer used; {@code answered} is false when the caller got nothing to pay for.
   */
  private record Metered(boolean answered, Usage usage) {}

  /**
   * @param endpoint "/chat/completions" or "/embeddings"
   */
  public void handle(String endpoint, HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    Instant startedAt = Instant.now();
    CallBody body =
        CallBody.parse(json, readWhole(request.getInputStream(), request.getContentLengthLong()));
    if (body == null) {
      OpenAiErrors.write(
          json,
          response,
          400,
          "The request body is not a JSON object.",
          "invalid_request_error",
          "invalid_json",
          null);
      return;
    }
    String model = body.model();
    Admission.Decision decision = admission.admit(callerKey(request), model);
    if (decision instanceof Refused refused) {
      OpenAiErrors.write(
          json,
          response,
          refused.status(),
          refused.message(),
          refused.type(),
          refused.code(),
          refused.retryAfter());
      return;
    }
    String keyId = ((Admitted) decision).key().keyId();
    Result result;
    try {
      if (!outbox.hasRoom()) {
        OpenAiErrors.write(
            json,
            response,
            503,
            "Tollgate cannot record calls right now; try again shortly.",
            "server_error",
            "billing_unavailable",
            null);
        return;
      }
      List<Route> plan = routes.plan(model, endpoint);
      if (plan.isEmpty()) {
        OpenAiErrors.write(
            json,
            response,
            404,
            "No provider serves the model " + model + ".",
            "invalid_request_error",
            "model_not_found",
            null);
        return;
      }
      result = forward(plan, endpoint, body, response);
      // The caller has its whole answer before the event is encoded and handed to Kafka.
      flushQuietly(response);
    } finally {
      balances.finished(keyId);
    }
    outbox.publish(
        new RequestCompleted(
            "req_" + UUID.randomUUID(),
            keyId,
            model,
            "/v1" + endpoint,
            result.provider(),
            result.success(),
            result.status(),
            result.usage().promptTokens(),
            result.usage().completionTokens(),
            result.usage().estimated(),
            startedAt,
            Instant.now()));
  }

  private Result forward(
      List<Route> plan, String endpoint, CallBody body, HttpServletResponse response)
      throws IOException {
    boolean stream = body.stream() && endpoint.equals("/chat/completions");
    int lastStatus = 502;
    String lastProvider = plan.get(0).provider();
    for (Route route : plan) {
      lastProvider = route.provider();
      HttpPost request = upstreamRequest(route, body, stream);
      ClassicHttpResponse upstream;
      try {
        upstream = http.executeOpen(null, request, null);
      } catch (IOException unreachable) {
        log.warn("provider {} cannot be reached: {}", route.provider(), unreachable.toString());
        lastStatus = 502;
        continue;
      }
      try {
        int status = upstream.getCode();
        if (status >= 500 || status == 429) {
          request.cancel();
          log.warn("provider {} answered {}; trying the next one", route.provider(), status);
          lastStatus = status;
          continue;
        }
        HttpEntity entity = upstream.getEntity();
        String contentType =
            entity == null || entity.getContentType() == null
                ? "application/json"
                : entity.getContentType();
        InputStream in = entity == null ? InputStream.nullInputStream() : entity.getContent();
        Metered metered =
            stream && contentType.startsWith("text/event-stream") && status == 200
                ? relayStream(request, in, body, response)
                : relayWhole(
                    status,
                    contentType,
                    entity == null ? 0 : entity.getContentLength(),
                    in,
                    body,
                    response);
        return new Result(route.provider(), metered.answered(), status, metered.usage());
      } finally {
        closeQuietly(upstream);
      }
    }
    OpenAiErrors.write(
        json,
        response,
        502,
        "No upstream provider could serve the request.",
        "server_error",
        "upstream_unavailable",
        null);
    return new Result(lastProvider, false, lastStatus, new Usage(0, 0, false));
  }

  /**
   * After a cancel the connection is already gone and closing it says so; the call is over either
   * way.
   */
  private static void closeQuietly(ClassicHttpResponse upstream) {
    try {
      upstream.close();
    } catch (IOException alreadyClosed) {
      log.debug("closing an upstream response: {}", alreadyClosed.toString());
    }
  }

  private static void flushQuietly(HttpServletResponse response) {
    try {
      response.flushBuffer();
    } catch (IOException clientGone) {
      log.debug("flushing the answer: {}", clientGone.toString());
    }
  }

  private HttpPost upstreamRequest(Route route, CallBody body, boolean stream) {
    HttpPost request = new HttpPost(route.uri());
    request.setConfig(
        RequestConfig.custom().setResponseTimeout(Timeout.of(route.timeout())).build());
    request.setEntity(
        new ByteArrayEntity(
            body.forUpstream(route.upstreamModel(), stream), ContentType.APPLICATION_JSON));
    if (route.apiKey() != null) {
      request.setHeader("Authorization", "Bearer " + route.apiKey());
    }
    return request;
  }

  private Metered relayWhole(
      int status,
      String contentType,
      long contentLength,
      InputStream in,
      CallBody request,
      HttpServletResponse response)
      throws IOException {
    byte[] answer = readWhole(in, contentLength);
    response.setStatus(status);
    response.setContentType(contentType);
    response.setContentLength(answer.length);
    try {
      response.getOutputStream().write(answer);
    } catch (IOException clientGone) {
      // The upstream has answered and billed in full: the charge stands whether or not the caller
      // read it.
    }
    if (status < 200 || status >= 300) {
      return new Metered(false, new Usage(0, 0, false));
    }
    return new Metered(true, usageOf(answer, request));
  }

  /**
   * A body whose length is announced is read into one array of that length: readAllBytes alone
   * reads into an 8 KiB buffer and copies it out, twice per call. A length past {@link
   * #SIZED_READ_LIMIT} is not trusted with an allocation before its bytes arrive.
   */
  static byte[] readWhole(InputStream in, long announcedLength) throws IOException {
    if (announcedLength < 0 || announcedLength > SIZED_READ_LIMIT) {
      return in.readAllBytes();
    }
    byte[] body = in.readNBytes((int) announcedLength);
    // One byte, not readAllBytes, to see the end: readAllBytes allocates its 8 KiB buffer first.
    int next = in.read();
    if (next < 0) {
      return body;
    }
    byte[] more = in.readAllBytes();
    byte[] whole = Arrays.copyOf(body, body.length + 1 + more.length);
    whole[body.length] = (byte) next;
    System.arraycopy(more, 0, whole, body.length + 1, more.length);
    return whole;
  }

  /**
   * The upstream's own count when it gave one; found with a streaming pass over the answer, which
   * builds a tree of the {@code usage} object only.
   */
  private Usage usageOf(byte[] answer, CallBody request) {
    JsonNode usage;
    try {
      usage = topLevelField(answer, "usage");
    } catch (JacksonException notJson) {
      return new Usage(tokens.promptTokens(request.tree()), 0, true);
    }
    if (usage != null && usage.hasNonNull("prompt_tokens")) {
      return new Usage(
          usage.get("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(0), false);
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode choice : json.readTree(answer).path("choices")) {
      JsonNode content = choice.path("message").path("content");
      if (content.isString()) {
        text.append(content.asString());
      }
    }
    return new Usage(tokens.promptTokens(request.tree()), tokens.count(text.toString()), true);
  }

  /**
   * The last field of that name of a JSON object, as a tree; null when there is none or the JSON is
   * not an object.
   *
   * @throws JacksonException when the bytes are not one JSON value
   */
  private JsonNode topLevelField(byte[] document, String field) {
    JsonNode found = null;
    try (JsonParser parser = json.createParser(document)) {
      JsonToken root = parser.nextToken();
      if (root == JsonToken.START_OBJECT) {
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
          String name = parser.currentName();
          parser.nextToken();
          if (name.equals(field)) {
            found = parser.readValueAsTree();
          } else {
            parser.skipChildren();
          }
        }
      } else if (root != null) {
        parser.skipChildren();
      }
      if (parser.nextToken() != null) {
        throw new StreamReadException(parser, "more than one JSON value");
      }
    }
    return found;
  }

  /**
   * Passes the stream through read by read. A write that fails means the caller went away: the
   * upstream request is cancelled, which closes its connection, so the provider stops generating.
   */
  private Metered relayStream(
      HttpPost upstreamRequest, InputStream in, CallBody request, HttpServletResponse response)
      throws IOException {
    SseUsageScanner scanner = new SseUsageScanner(json);
    response.setStatus(200);
    response.setContentType("text/event-stream");
    response.setHeader("Cache-Control", "no-cache");
    OutputStream out = response.getOutputStream();
    byte[] buffer = new byte[READ_BUFFER];
    while (true) {
      int read;
      try {
        read = in.read(buffer);
      } catch (IOException upstreamBroke) {
        log.warn("the upstream stream broke: {}", upstreamBroke.toString());
        break;
      }
      if (read < 0) {
        break;
      }
      scanner.feed(buffer, 0, read);
      try {
        out.write(buffer, 0, read);
        out.flush();
      } catch (IOException clientGone) {
        upstreamRequest.cancel();
        break;
      }
    }
    if (scanner.hasUsage()) {
      return new Metered(
          true, new Usage(scanner.promptTokens(), scanner.completionTokens(), false));
    }
    if (!scanner.sawOutput()) {
      return new Metered(false, new Usage(0, 0, false));
    }
    return new Metered(
        true,
        new Usage(
            tokens.promptTokens(request.tree()), tokens.count(scanner.generatedText()), true));
  }

  /** uni-api reads the key from {@code Authorization: Bearer} or {@code x-api-key}. */
  public static String callerKey(HttpServletRequest request) {
    String authorization = request.getHeader("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    String apiKey = request.getHeader("x-api-key");
    return apiKey == null ? null : apiKey.trim();
  }
}

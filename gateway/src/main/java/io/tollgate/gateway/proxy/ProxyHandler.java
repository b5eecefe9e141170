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
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

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
    ObjectNode body;
    try {
      JsonNode parsed = json.readTree(request.getInputStream());
      if (parsed == null || !parsed.isObject()) {
        throw new IllegalArgumentException("not an object");
      }
      body = (ObjectNode) parsed;
    } catch (JacksonException | IllegalArgumentException notJson) {
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
    JsonNode modelNode = body.get("model");
    String model = modelNode != null && modelNode.isString() ? modelNode.asString() : null;
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
      List<Route> plan, String endpoint, ObjectNode body, HttpServletResponse response)
      throws IOException {
    boolean stream = body.path("stream").asBoolean(false) && endpoint.equals("/chat/completions");
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
                : relayWhole(status, contentType, in, body, response);
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

  private HttpPost upstreamRequest(Route route, ObjectNode body, boolean stream) {
    ObjectNode outgoing = body.deepCopy();
    outgoing.put("model", route.upstreamModel());
    if (stream) {
      outgoing.putObject("stream_options").put("include_usage", true);
    }
    HttpPost request = new HttpPost(route.uri());
    request.setConfig(
        RequestConfig.custom().setResponseTimeout(Timeout.of(route.timeout())).build());
    request.setEntity(
        new ByteArrayEntity(json.writeValueAsBytes(outgoing), ContentType.APPLICATION_JSON));
    if (route.apiKey() != null) {
      request.setHeader("Authorization", "Bearer " + route.apiKey());
    }
    return request;
  }

  private Metered relayWhole(
      int status,
      String contentType,
      InputStream in,
      ObjectNode request,
      HttpServletResponse response)
      throws IOException {
    byte[] answer = in.readAllBytes();
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

  private Usage usageOf(byte[] answer, ObjectNode request) {
    JsonNode parsed;
    try {
      parsed = json.readTree(answer);
    } catch (JacksonException notJson) {
      return new Usage(tokens.promptTokens(request), 0, true);
    }
    JsonNode usage = parsed.get("usage");
    if (usage != null && usage.hasNonNull("prompt_tokens")) {
      return new Usage(
          usage.get("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(0), false);
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode choice : parsed.path("choices")) {
      JsonNode content = choice.path("message").path("content");
      if (content.isString()) {
        text.append(content.asString());
      }
    }
    return new Usage(tokens.promptTokens(request), tokens.count(text.toString()), true);
  }

  /**
   * Passes the stream through read by read. A write that fails means the caller went away: the
   * upstream request is cancelled, which closes its connection, so the provider stops generating.
   */
  private Metered relayStream(
      HttpPost upstreamRequest, InputStream in, ObjectNode request, HttpServletResponse response)
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
        true, new Usage(tokens.promptTokens(request), tokens.count(scanner.generatedText()), true));
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

package io.tollgate.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real HTTP server speaking OpenAI's chat completions and embeddings protocol, as providers do:
 * JSON answers with usage, and SSE streams whose events are deliberately cut across writes, with
 * several events in one write, and a final usage chunk. What it answers depends on the upstream
 * model name it is asked for:
 *
 * <ul>
 *   <li>{@code fail-model}: 500, as a provider that is down;
 *   <li>{@code endless-model}: a stream that never ends by itself and never sends usage, for a
 *       client that goes away; {@link #streamsCancelled} counts those whose write to the gateway
 *       failed;
 *   <li>anything else: a normal answer with 1000 prompt and 500 completion tokens (non-streaming)
 *       or 2000 and 1000 (streaming).
 * </ul>
 */
final class FakeOpenAiUpstream implements AutoCloseable {

  static final String UPSTREAM_KEY = "sk-upstream-secret";

  private static final Pattern MODEL = Pattern.compile("\"model\"\\s*:\\s*\"([^\"]+)\"");

  private final HttpServer server;
  final AtomicInteger calls = new AtomicInteger();
  final List<Map<String, List<String>>> requestHeaders = new CopyOnWriteArrayList<>();
  final List<String> requestBodies = new CopyOnWriteArrayList<>();
  final AtomicInteger streamsCancelled = new AtomicInteger();

  FakeOpenAiUpstream() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/chat/completions", this::chat);
    server.createContext("/v1/embeddings", this::embeddings);
    server.start();
  }

  String chatUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/chat/completions";
  }

  private String record(HttpExchange exchange) throws IOException {
    calls.incrementAndGet();
    requestHeaders.add(Map.copyOf(exchange.getRequestHeaders()));
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    requestBodies.add(body);
    return body;
  }

  private void chat(HttpExchange exchange) throws IOException {
    String body = record(exchange);
    Matcher model = MODEL.matcher(body);
    String name = model.find() ? model.group(1) : "";
    if (name.equals("fail-model")) {
      send(exchange, 500, "application/json", "{\"error\":{\"message\":\"upstream broke\"}}");
      return;
    }
    if (!body.contains("\"stream\":true")) {
      send(
          exchange,
          200,
          "application/json",
          """
          {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"%s",
           "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],
           "usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}"""
              .formatted(name));
      return;
    }
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.sendResponseHeaders(200, 0);
    try (OutputStream out = exchange.getResponseBody()) {
      if (name.equals("endless-model")) {
        endless(out, name);
        return;
      }
      String first = chunk(name, "Hel");
      String second = chunk(name, "lo.");
      String usage =
          "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\""
              + name
              + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":2000,\"completion_tokens\":1000,\"total_tokens\":3000}}\n\n";
      String all = first + second + usage + "data: [DONE]\n\n";
      // Cut inside the first event, then inside the usage event's JSON, then the rest at once.
      int cutOne = first.length() / 2;
      int cutTwo = first.length() + second.length() + usage.length() / 3;
      write(out, all.substring(0, cutOne));
      write(out, all.substring(cutOne, cutTwo));
      write(out, all.substring(cutTwo));
    }
  }

  private void endless(OutputStream out, String name) {
    try {
      for (int i = 0; i < 2000; i++) {
        write(out, chunk(name, "word" + i + " "));
        Thread.sleep(20);
      }
    } catch (IOException gatewayWentAway) {
      streamsCancelled.incrementAndGet();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String chunk(String model, String content) {
    return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\""
        + model
        + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
        + content
        + "\"}}]}\n\n";
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private void embeddings(HttpExchange exchange) throws IOException {
    record(exchange);
    send(
        exchange,
        200,
        "application/json",
        """
        {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],
         "model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}""");
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

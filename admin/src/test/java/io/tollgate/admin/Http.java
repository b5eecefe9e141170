package io.tollgate.admin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Real HTTP calls to a running application, as curl would make them. */
final class Http {

  static final String ADMIN = "sk-admin-key";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  record Response(int status, String body, String contentType) {
    JsonNode json() {
      return JSON.readTree(body);
    }
  }

  private final HttpClient client = HttpClient.newHttpClient();
  private final String base;

  Http(ConfigurableApplicationContext app) {
    this.base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
  }

  Response get(String path, String key) {
    return send("GET", path, key == null ? null : "Bearer " + key, null);
  }

  Response post(String path, String key) {
    return send("POST", path, key == null ? null : "Bearer " + key, null);
  }

  Response send(String method, String path, String authorization, String accept) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    if (accept != null) {
      request.header("Accept", accept);
    }
    return send(request);
  }

  Response withApiKeyHeader(String method, String path, String key) {
    return send(
        HttpRequest.newBuilder(URI.create(base + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .header("x-api-key", key));
  }

  private Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> response =
          client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(
          response.statusCode(),
          response.body(),
          response.headers().firstValue("Content-Type").orElse(""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

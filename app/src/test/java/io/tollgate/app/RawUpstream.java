package io.tollgate.app;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * An upstream on a plain server socket (or a TLS one), so that a test can see what the JDK's HTTP
 * server hides: how many connections the gateway opened, and an upstream that takes a request and
 * never answers. Speaks just enough HTTP/1.1: keep-alive, requests with a Content-Length.
 */
final class RawUpstream implements AutoCloseable {

  static final String ANSWER =
      """
      {"id":"chatcmpl-raw","object":"chat.completion","created":0,"model":"raw",\
      "choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],\
      "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""";

  private final ServerSocket server;
  private final boolean answers;
  private final long delayMillis;
  private final int answersPerConnection;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();

  private static final Pattern MAX_TOKENS = Pattern.compile("\"max_tokens\"\\s*:\\s*(\\d+)");

  /** Answers with an SSE stream instead of {@link #ANSWER}. */
  private volatile boolean streams;

  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  /**
   * @param answers false for an upstream that reads each request and never answers
   * @param delayMillis how long it thinks before each answer
   */
  RawUpstream(ServerSocket server, boolean answers, long delayMillis) {
    this(server, answers, delayMillis, 0);
  }

  /**
   * @param answersPerConnection after this many answers on a connection it reads the next request
   *     and closes the connection without answering, as a server whose keep-alive timeout ran out
   *     just as the request came; 0 for no limit
   */
  private RawUpstream(
      ServerSocket server, boolean answers, long delayMillis, int answersPerConnection) {
    this.server = server;
    this.answers = answers;
    this.delayMillis = delayMillis;
    this.answersPerConnection = answersPerConnection;
    Thread acceptor = new Thread(this::accept, "raw-upstream-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  static RawUpstream plain(boolean answers) throws IOException {
    return new RawUpstream(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), answers, 0);
  }

  /** Answers one request per connection and drops the connection on the next. */
  static RawUpstream closingIdleConnections() throws IOException {
    return new RawUpstream(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), true, 0, 1);
  }

  /**
   * Streams every call an SSE answer of as many content events of about 1 KB each as the call's
   * {@code max_tokens} (3 without it), then a usage event (3 prompt tokens, that many completion
   * tokens) and {@code [DONE]}; the answer's writes block while the gateway reads none of it.
   */
  static RawUpstream streaming() throws IOException {
    RawUpstream upstream = plain(true);
    upstream.streams = true;
    return upstream;
  }

  private static byte[] stream(String request) {
    Matcher asked = MAX_TOKENS.matcher(request);
    int events = asked.find() ? Integer.parseInt(asked.group(1)) : 3;
    StringBuilder sse = new StringBuilder();
    String text = "x".repeat(1000);
    for (int i = 0; i < events; i++) {
      sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"")
          .append(text)
          .append("\"}}]}\n\n");
    }
    sse.append("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":")
        .append(events)
        .append("}}\n\ndata: [DONE]\n\n");
    return sse.toString().getBytes(StandardCharsets.UTF_8);
  }

  static RawUpstream slow(long delayMillis) throws IOException {
    return new RawUpstream(
        new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), true, delayMillis);
  }

  static RawUpstream tls(SSLContext context) throws IOException {
    return new RawUpstream(
        context
            .getServerSocketFactory()
            .createServerSocket(0, 50, InetAddress.getLoopbackAddress()),
        true,
        0);
  }

  int port() {
    return server.getLocalPort();
  }

  int connections() {
    return connections.get();
  }

  /** Connections that have ended, by either side. */
  int closedConnections() {
    return closed.get();
  }

  /** The request lines and bodies it was sent, in order. */
  List<String> requests() {
    return requests;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        connections.incrementAndGet();
        open.add(socket);
        Thread connection = new Thread(() -> serve(socket), "raw-upstream-connection");
        connection.setDaemon(true);
        connection.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      int answered = 0;
      while (true) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        int length = 0;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        requests.add(head.substring(0, head.indexOf("\r\n")) + "\n" + body);
        if (!answers) {
          continue;
        }
        if (answersPerConnection > 0 && answered == answersPerConnection) {
          return;
        }
        answered++;
        if (delayMillis > 0) {
          try {
            Thread.sleep(delayMillis);
          } catch (InterruptedException interrupted) {
            return;
          }
        }
        byte[] answer = streams ? stream(body) : ANSWER.getBytes(StandardCharsets.UTF_8);
        String type = streams ? "text/event-stream" : "application/json";
        out.write(
            ("HTTP/1.1 200 OK\r\nContent-Type: "
                    + type
                    + "\r\nContent-Length: "
                    + answer.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(answer);
        out.flush();
      }
    } catch (IOException gone) {
      // The gateway closed the connection.
    } finally {
      closed.incrementAndGet();
    }
  }

  /** A request's or an answer's first line and headers, or null at the end of the stream. */
  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    int next;
    while ((next = in.read()) >= 0) {
      head.write(next);
      matched = next == "\r\n\r\n".charAt(matched) ? matched + 1 : next == '\r' ? 1 : 0;
      if (matched == 4) {
        return head.toString(StandardCharsets.US_ASCII);
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket socket : open) {
      socket.close();
    }
  }
}

package io.tollgate.app;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A caller on a plain socket, so that a test decides when it reads: it sends one streamed chat call
 * and then reads the answer as slowly as the test likes.
 */
final class SlowCaller implements AutoCloseable {

  /** What a chunked answer carried: its size and its last bytes, decoded. */
  record Body(long length, String tail) {}

  private final Socket socket;
  private final InputStream in;

  /** Sends a streamed call for {@code maxTokens} tokens. */
  SlowCaller(int port, String key, String model, int maxTokens) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(60_000);
    String body =
        "{\"model\":\""
            + model
            + "\",\"stream\":true,\"max_tokens\":"
            + maxTokens
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"Hi.\"}]}";
    socket
        .getOutputStream()
        .write(
            ("POST /v1/chat/completions HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer "
                    + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length()
                    + "\r\n\r\n"
                    + body)
                .getBytes(StandardCharsets.US_ASCII));
    in = new BufferedInputStream(socket.getInputStream(), 65536);
  }

  /** Reads the answer's status line and headers; returns the status line. */
  String readHead() throws IOException {
    String head = RawUpstream.readHead(in);
    if (head == null) {
      throw new IOException("the connection closed before an answer");
    }
    return head.substring(0, head.indexOf("\r\n"));
  }

  /** Reads chunks up to the last one, keeping only the decoded body's last 256 bytes. */
  Body readChunkedBody() throws IOException {
    long length = 0;
    byte[] tail = new byte[256];
    int tailLength = 0;
    while (true) {
      String sizeLine = readLine();
      int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
      if (size == 0) {
        readLine();
        return new Body(length, new String(tail, 0, tailLength, StandardCharsets.UTF_8));
      }
      byte[] chunk = in.readNBytes(size);
      if (chunk.length < size) {
        throw new IOException("the answer ended inside a chunk");
      }
      length += size;
      int keep = Math.min(size, tail.length);
      int shift = Math.min(tailLength, tail.length - keep);
      System.arraycopy(tail, tailLength - shift, tail, 0, shift);
      System.arraycopy(chunk, size - keep, tail, shift, keep);
      tailLength = shift + keep;
      readLine();
    }
  }

  /** Reads and drops everything up to the end of the connection; returns how many bytes. */
  long readToEnd() throws IOException {
    long length = 0;
    byte[] buffer = new byte[65536];
    int read;
    while ((read = in.read(buffer)) >= 0) {
      length += read;
    }
    return length;
  }

  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder();
    int next;
    while ((next = in.read()) >= 0 && next != '\n') {
      if (next != '\r') {
        line.append((char) next);
      }
    }
    if (next < 0) {
      throw new IOException("the connection closed inside the chunked answer");
    }
    return line.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

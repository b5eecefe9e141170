package io.tollgate.gateway.events;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Forwards connections from a fixed local port to a target, so a test can hand a client an address
 * before the Kafka behind it exists: Kafka's test broker cannot be told its port.
 */
final class TcpForwarder implements AutoCloseable {

  private final ServerSocket server;

  TcpForwarder(int port, String targetHost, int targetPort) throws IOException {
    server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress("localhost", port));
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket client = server.accept();
                  Socket target = new Socket(targetHost, targetPort);
                  pipe(client.getInputStream(), target.getOutputStream());
                  pipe(target.getInputStream(), client.getOutputStream());
                } catch (IOException closed) {
                  return;
                }
              }
            },
            "forwarder");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void pipe(InputStream from, OutputStream to) {
    Thread thread =
        new Thread(
            () -> {
              try (from;
                  to) {
                from.transferTo(to);
              } catch (IOException closed) {
                // one side went away; closing both ends of this direction is all there is to do
              }
            },
            "forwarder-pipe");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}

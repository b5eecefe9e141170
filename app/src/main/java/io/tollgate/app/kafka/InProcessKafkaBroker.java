package io.tollgate.app.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka (KRaft, broker and controller in one) inside the application, for a machine
 * with no Kafka installed. Its log lives in a directory that survives restarts, so events accepted
 * before a stop are still there after it. It listens on localhost only, on a free port unless told
 * one (so that other nodes on the machine can use it too).
 */
public final class InProcessKafkaBroker implements AutoCloseable {

  private static final int NODE_ID = 1;

  private final KafkaRaftServer server;
  private final String bootstrapServers;

  private InProcessKafkaBroker(KafkaRaftServer server, String bootstrapServers) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
  }

  /**
   * @param port the broker's port, or 0 for a free one
   */
  public static InProcessKafkaBroker start(Path directory, int partitions, int port) {
    try {
      Files.createDirectories(directory);
      String logDir = directory.toAbsolutePath().toString();
      int brokerPort = port > 0 ? port : freePort();
      int controllerPort = freePort();
      Map<String, String> settings = new HashMap<>();
      settings.put("process.roles", "broker,controller");
      settings.put("node.id", Integer.toString(NODE_ID));
      settings.put("controller.quorum.voters", NODE_ID + "@localhost:" + controllerPort);
      settings.put(
          "listeners",
          "PLAINTEXT://localhost:" + brokerPort + ",CONTROLLER://localhost:" + controllerPort);
      settings.put("advertised.listeners", "PLAINTEXT://localhost:" + brokerPort);
      settings.put("controller.listener.names", "CONTROLLER");
      settings.put("inter.broker.listener.name", "PLAINTEXT");
      settings.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      settings.put("log.dirs", logDir);
      settings.put("num.partitions", Integer.toString(partitions));
      settings.put("offsets.topic.replication.factor", "1");
      settings.put("offsets.topic.num.partitions", "1");
      settings.put("transaction.state.log.replication.factor", "1");
      settings.put("transaction.state.log.min.isr", "1");
      settings.put("group.initial.rebalance.delay.ms", "0");
      settings.put("num.network.threads", "2");
      settings.put("num.io.threads", "2");
      settings.put("log.cleaner.threads", "1");
      settings.put("share.coordinator.state.topic.replication.factor", "1");
      settings.put("share.coordinator.state.topic.min.isr", "1");
      format(logDir);
      KafkaConfig config = new KafkaConfig(settings, false);
      KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      return new InProcessKafkaBroker(server, "localhost:" + brokerPort);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the in-process Kafka broker in " + directory, e);
    }
  }

  /** Formats the log directory the first time; a directory formatted by an earlier run is kept. */
  private static void format(String logDir) {
    if (Files.exists(Path.of(logDir, "meta.properties"))) {
      return;
    }
    try {
      formatLogDirectory(logDir, NODE_ID, Uuid.randomUuid().toString());
    } catch (Exception e) {
      throw new IllegalStateException(
          "cannot format the in-process Kafka log directory " + logDir, e);
    }
  }

  /**
   * Writes a KRaft node's {@code meta.properties} and bootstrap metadata into {@code logDir}, as
   * {@code kafka-storage.sh format} would, for a node whose controller listener is {@code
   * CONTROLLER}.
   */
  public static void formatLogDirectory(String logDir, int nodeId, String clusterId)
      throws Exception {
    new Formatter()
        .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
        .setNodeId(nodeId)
        .setClusterId(clusterId)
        .addDirectory(logDir)
        .setMetadataLogDirectory(logDir)
        .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
        .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
        .setControllerListenerName("CONTROLLER")
        .run();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
  }
}

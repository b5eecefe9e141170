package io.tollgate.app;

import io.tollgate.app.kafka.InProcessKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A Kafka cluster of three KRaft nodes (broker and controller each) in the test's JVM, set up as
 * the production topology's {@code docker-compose.yml} sets its brokers: every topic replicated
 * three times unless it asks otherwise, and {@code acks=all} writes needing two replicas in sync.
 */
final class ThreeBrokerKafka implements AutoCloseable {

  private static final int NODES = 3;

  private final List<KafkaRaftServer> servers;
  private final String bootstrapServers;

  private ThreeBrokerKafka(List<KafkaRaftServer> servers, String bootstrapServers) {
    this.servers = servers;
    this.bootstrapServers = bootstrapServers;
  }

  static ThreeBrokerKafka start(Path directory) throws Exception {
    int[] brokerPorts = new int[NODES];
    int[] controllerPorts = new int[NODES];
    for (int i = 0; i < NODES; i++) {
      brokerPorts[i] = TestNodes.freePort();
      controllerPorts[i] = TestNodes.freePort();
    }
    String voters =
        IntStream.range(0, NODES)
            .mapToObj(i -> (i + 1) + "@localhost:" + controllerPorts[i])
            .collect(Collectors.joining(","));
    String clusterId = Uuid.randomUuid().toString();
    List<KafkaRaftServer> servers = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      int nodeId = i + 1;
      String logDir = directory.resolve("kafka-" + nodeId).toAbsolutePath().toString();
      Files.createDirectories(Path.of(logDir));
      Map<String, String> settings = new HashMap<>();
      settings.put("process.roles", "broker,controller");
      settings.put("node.id", Integer.toString(nodeId));
      settings.put("controller.quorum.voters", voters);
      settings.put(
          "listeners",
          "PLAINTEXT://localhost:"
              + brokerPorts[i]
              + ",CONTROLLER://localhost:"
              + controllerPorts[i]);
      settings.put("advertised.listeners", "PLAINTEXT://localhost:" + brokerPorts[i]);
      settings.put("controller.listener.names", "CONTROLLER");
      settings.put("inter.broker.listener.name", "PLAINTEXT");
      settings.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      settings.put("log.dirs", logDir);
      // As docker-compose.yml's brokers.
      settings.put("default.replication.factor", "3");
      settings.put("min.insync.replicas", "2");
      settings.put("offsets.topic.replication.factor", "3");
      settings.put("offsets.topic.num.partitions", "1");
      settings.put("transaction.state.log.replication.factor", "3");
      settings.put("transaction.state.log.min.isr", "2");
      settings.put("group.initial.rebalance.delay.ms", "0");
      settings.put("num.network.threads", "1");
      settings.put("num.io.threads", "1");
      settings.put("log.cleaner.threads", "1");
      InProcessKafkaBroker.formatLogDirectory(logDir, nodeId, clusterId);
      servers.add(new KafkaRaftServer(new KafkaConfig(settings, false), Time.SYSTEM));
    }
    // A node's start waits for a controller quorum, which needs two of the three: start together.
    CompletableFuture.allOf(
            servers.stream()
                .map(server -> CompletableFuture.runAsync(server::startup))
                .toArray(CompletableFuture[]::new))
        .join();
    String bootstrap =
        Arrays.stream(brokerPorts)
            .mapToObj(port -> "localhost:" + port)
            .collect(Collectors.joining(","));
    return new ThreeBrokerKafka(servers, bootstrap);
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  /** Shuts the first node down for good: the cluster goes on with two brokers and controllers. */
  void stopOne() {
    KafkaRaftServer first = servers.remove(0);
    first.shutdown();
    first.awaitShutdown();
  }

  /**
   * All at once: a broker's controlled shutdown needs a controller quorum, which the last node
   * alone would not have, so one after the other the last one waited minutes.
   */
  @Override
  public void close() {
    CompletableFuture.allOf(
            servers.stream()
                .map(server -> CompletableFuture.runAsync(server::shutdown))
                .toArray(CompletableFuture[]::new))
        .join();
    servers.forEach(KafkaRaftServer::awaitShutdown);
  }
}

package io.tollgate.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged {@code tollgate.jar} run as a process of its own, as a user runs it: for the tests
 * that need what only a separate process shows (the jar's own class loading, a process killed).
 */
final class JarNode implements AutoCloseable {

  static final Path JAR = Path.of("target", "tollgate.jar");

  private final Process process;
  private final Path log;

  private JarNode(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts the jar with the test JVM's java. {@code environment} is added to this process's, less
   * the variables that would point the node elsewhere (database, Kafka, roles); output goes to
   * {@code log}.
   */
  static JarNode start(Map<String, String> environment, Path log, String... arguments)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-jar");
    command.add(JAR.toAbsolutePath().toString());
    command.addAll(List.of(arguments));
    ProcessBuilder launch =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    launch.environment().remove("TOLLGATE_DB_URL");
    launch.environment().remove("KAFKA_BOOTSTRAP_SERVERS");
    launch.environment().remove("TOLLGATE_ROLES");
    launch.environment().putAll(environment);
    return new JarNode(launch.start(), log);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL: the process gets no chance to stop in order, as when it is killed or crashes. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** The last few thousand characters of the node's output, for assertion messages. */
  String tail() {
    try {
      String all = Files.readString(log);
      return all.substring(Math.max(0, all.length() - 4000));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  String output() throws IOException {
    return Files.readString(log);
  }

  /** An orderly stop (SIGTERM), forced after 30 seconds. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      kill();
    }
  }
}

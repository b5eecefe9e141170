package io.tollgate.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.LongSupplier;

/** CPU time and allocation of one operation on this thread: the median of five timed rounds. */
final class ThreadCost {

  /** Keeps results alive so the JIT cannot drop the work. */
  static long sink;

  private ThreadCost() {}

  /**
   * Prints a table of the operations' costs: first every operation is warmed, ten rounds taking
   * turns, so the JIT has compiled them all at its top tier before any is timed; then a row each.
   *
   * @param columns the labels' column names, then the two figures' (µs, then bytes)
   * @param labels each operation's labels, one per label column
   */
  static void table(int perRound, LongSupplier[] operations, String[][] labels, String... columns) {
    for (int round = 0; round < 10; round++) {
      for (LongSupplier operation : operations) {
        for (int i = 0; i < perRound; i++) {
          sink += operation.getAsLong();
        }
      }
    }
    System.out.println("| " + String.join(" | ", columns) + " |");
    System.out.println("|" + "---|".repeat(columns.length - 2) + "---:|---:|");
    for (int i = 0; i < operations.length; i++) {
      row(operations[i], perRound, labels[i]);
    }
    System.out.println("(sink " + sink + ")");
  }

  /** Prints a table row: the labels, then µs of CPU and bytes allocated per operation. */
  private static void row(LongSupplier operation, int perRound, String... labels) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long self = Thread.currentThread().getId();
    double[] micros = new double[5];
    double[] bytes = new double[5];
    for (int round = 0; round < 5; round++) {
      long allocatedBefore = threads.getThreadAllocatedBytes(self);
      long cpuBefore = threads.getCurrentThreadCpuTime();
      for (int i = 0; i < perRound; i++) {
        sink += operation.getAsLong();
      }
      long cpu = threads.getCurrentThreadCpuTime() - cpuBefore;
      long allocated = threads.getThreadAllocatedBytes(self) - allocatedBefore;
      micros[round] = cpu / 1000.0 / perRound;
      bytes[round] = (double) allocated / perRound;
    }
    Arrays.sort(micros);
    Arrays.sort(bytes);
    System.out.printf("| %s | %.3f | %.0f |%n", String.join(" | ", labels), micros[2], bytes[2]);
  }
}

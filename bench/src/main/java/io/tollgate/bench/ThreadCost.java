package io.tollgate.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.LongSupplier;

/** CPU time and allocation of one operation on this thread: the median of five timed rounds. */
final class ThreadCost {

  /** Keeps results alive so the JIT cannot drop the work. */
  static long sink;

  private ThreadCost() {}

  /** Runs {@code operation} {@code rounds} times {@code perRound} times, timing nothing. */
  static void warm(LongSupplier operation, int perRound, int rounds) {
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < perRound; i++) {
        sink += operation.getAsLong();
      }
    }
  }

  /** Prints a table row: the labels, then µs of CPU and bytes allocated per operation. */
  static void row(LongSupplier operation, int perRound, String... labels) {
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

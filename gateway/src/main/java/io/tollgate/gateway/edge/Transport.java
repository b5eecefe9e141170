package io.tollgate.gateway.edge;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge's I/O ({@code tollgate.gateway.transport}): by default Linux's io_uring where the kernel
 * allows it, epoll where it does not (container runtimes' default seccomp profiles refuse
 * io_uring), the JDK's selector where Netty's native libraries do not load. On the 2-core benchmark
 * machine io_uring spent 15 to 25 % less CPU per call than epoll and served 7 to 26 % more calls
 * per second, with no better p99 (bench/README.md): it hands the kernel a call's reads and writes
 * in batches, where epoll makes a system call for each.
 */
record Transport(
    String name,
    IoHandlerFactory io,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends SocketChannel> socketChannel) {

  private static final Logger log = LoggerFactory.getLogger(Transport.class);

  /**
   * @param choice {@code auto} (io_uring, else epoll, else nio), {@code io_uring}, {@code epoll} or
   *     {@code nio}
   * @throws IllegalArgumentException for another name, or one this machine cannot run, saying why
   */
  static Transport named(String choice) {
    switch (choice.toLowerCase(Locale.ROOT)) {
      case "auto":
        if (IoUring.isAvailable()) {
          return ioUring();
        }
        Transport fallback = Epoll.isAvailable() ? epoll() : nio();
        log.info(
            "io_uring is not available ({}); using {}",
            IoUring.unavailabilityCause(),
            fallback.name());
        return fallback;
      case "epoll":
        return required("epoll", Epoll.unavailabilityCause(), Transport::epoll);
      case "io_uring":
        return required("io_uring", IoUring.unavailabilityCause(), Transport::ioUring);
      case "nio":
        return nio();
      default:
        throw new IllegalArgumentException(
            "tollgate.gateway.transport is '"
                + choice
                + "'; it must be one of auto, epoll, io_uring and nio");
    }
  }

  /**
   * The transport {@code name} names, built only if {@code unavailable} (Netty's reason it cannot
   * run here, null when it can) does not stop it: building one that cannot run fails with a link
   * error instead of the reason.
   */
  private static Transport required(
      String name, Throwable unavailable, Supplier<Transport> transport) {
    if (unavailable != null) {
      throw new IllegalArgumentException(
          "tollgate.gateway.transport is "
              + name
              + ", which this machine cannot run: "
              + unavailable);
    }
    return transport.get();
  }

  private static Transport ioUring() {
    return new Transport(
        "io_uring",
        IoUringIoHandler.newFactory(),
        IoUringServerSocketChannel.class,
        IoUringSocketChannel.class);
  }

  private static Transport epoll() {
    return new Transport(
        "epoll",
        EpollIoHandler.newFactory(),
        EpollServerSocketChannel.class,
        EpollSocketChannel.class);
  }

  private static Transport nio() {
    return new Transport(
        "nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
  }

  EventLoopGroup loops(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, io);
  }
}

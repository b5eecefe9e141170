package io.tollgate.gateway.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

class TransportTest {

  @Test
  void anUnknownTransportIsRefusedWithTheNamesThatWork() {
    assertThatThrownBy(() -> Transport.named("kqueue"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "tollgate.gateway.transport is 'kqueue'; it must be one of auto, epoll, io_uring and"
                + " nio");
  }

  @Test
  void namesAreReadWhateverTheirCase() {
    assertThat(Transport.named("NIO").serverChannel()).isEqualTo(NioServerSocketChannel.class);
  }

  @Test
  void autoTakesIoUringWhereTheKernelAllowsItThenEpoll() {
    assertThat(Transport.named("auto").name())
        .isEqualTo(IoUring.isAvailable() ? "io_uring" : Epoll.isAvailable() ? "epoll" : "nio");
  }

  @Test
  void ioUringIsTakenWhereTheKernelAllowsItAndOtherwiseRefusedWithTheReason() {
    if (IoUring.isAvailable()) {
      assertThat(Transport.named("io_uring").name()).isEqualTo("io_uring");
    } else {
      assertThatThrownBy(() -> Transport.named("io_uring"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(
              "tollgate.gateway.transport is io_uring, which this machine cannot run: ");
    }
  }
}

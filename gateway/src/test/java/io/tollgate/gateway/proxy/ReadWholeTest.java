package io.tollgate.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ReadWholeTest {

  private static byte[] read(String body, long announced) throws IOException {
    return ProxyHandler.readWhole(new ByteArrayInputStream(body.getBytes()), announced);
  }

  @Test
  void aBodyIsReadWholeWhateverItsAnnouncedLength() throws IOException {
    assertThat(read("{\"a\":1}", 7)).asString().isEqualTo("{\"a\":1}");
    assertThat(read("{\"a\":1}", -1)).asString().isEqualTo("{\"a\":1}");
    assertThat(read("{\"a\":1}", 3)).asString().isEqualTo("{\"a\":1}");
    assertThat(read("{\"a\":1}", 4)).asString().isEqualTo("{\"a\":1}");
    assertThat(read("{\"a\":1}", 100)).asString().isEqualTo("{\"a\":1}");
    assertThat(read("", 0)).isEmpty();
    assertThat(read("{}", Long.MAX_VALUE)).asString().isEqualTo("{}");
  }
}

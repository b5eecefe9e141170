package io.tollgate.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KeyIdsTest {

  @Test
  void sameKeyGivesSameIdAndTheIdHidesTheKey() {
    String id = KeyIds.of("sk-count-user-key");
    assertThat(id).isEqualTo(KeyIds.of("sk-count-user-key"));
    assertThat(id).doesNotContain("count-user").startsWith("key_").hasSize(68);
    assertThat(KeyIds.isKeyId(id)).isTrue();
    assertThat(KeyIds.of("sk-other")).isNotEqualTo(id);
  }

  @Test
  void emptyKeyIsRefused() {
    assertThatThrownBy(() -> KeyIds.of("")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void displayPrefixKeepsSevenAndFourCharacters() {
    assertThat(KeyIds.displayPrefix("sk-count-user-key")).isEqualTo("sk-coun...-key");
    assertThat(KeyIds.displayPrefix("short")).isEqualTo("short");
  }
}

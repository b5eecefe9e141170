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
  void onlyThePrefixAnd64LowercaseHexDigitsAreAKeyId() {
    String id = KeyIds.of("sk-a");
    String digits = id.substring(4);
    assertThat(KeyIds.isKeyId("key_" + "0123456789abcdef".repeat(4))).isTrue();
    assertThat(KeyIds.isKeyId(null)).isFalse();
    assertThat(KeyIds.isKeyId("")).isFalse();
    assertThat(KeyIds.isKeyId(id + "0")).isFalse();
    assertThat(KeyIds.isKeyId(id.substring(0, 67))).isFalse();
    assertThat(KeyIds.isKeyId("kex_" + digits)).isFalse();
    assertThat(KeyIds.isKeyId("key_" + digits.toUpperCase())).isFalse();
    assertThat(KeyIds.isKeyId("key_" + digits.substring(1) + "g")).isFalse();
    assertThat(KeyIds.isKeyId("key_" + digits.substring(1) + "/")).isFalse();
    assertThat(KeyIds.isKeyId("key_" + digits.substring(1) + ":")).isFalse();
    assertThat(KeyIds.isKeyId("key_" + digits.substring(1) + "`")).isFalse();
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

package io.tollgate.ledger.infrastructure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.axonframework.common.IdentifierFactory;
import org.junit.jupiter.api.Test;

class TimeOrderedIdentifierFactoryTest {

  @Test
  void axonFindsItAndEveryIdIsAVersion7UuidOfItsMillisecond() {
    IdentifierFactory factory = IdentifierFactory.getInstance();
    assertThat(factory).isInstanceOf(TimeOrderedIdentifierFactory.class);
    long before = System.currentTimeMillis();
    UUID id = UUID.fromString(factory.generateIdentifier());
    long after = System.currentTimeMillis();
    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.getMostSignificantBits() >>> 16).isBetween(before, after);
  }

  @Test
  void idsOfLaterMillisecondsSortAfterEarlierOnesAsText() {
    String earlier = TimeOrderedIdentifierFactory.next(1_764_300_000_000L).toString();
    String later = TimeOrderedIdentifierFactory.next(1_764_300_000_001L).toString();
    assertThat(later).isGreaterThan(earlier);
    assertThat(TimeOrderedIdentifierFactory.next(1_764_300_000_000L).toString())
        .startsWith(earlier.substring(0, 13));
  }

  @Test
  void idsOfOneMillisecondDifferInTheirRandomBits() {
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < 200_000; i++) {
      UUID id = TimeOrderedIdentifierFactory.next(1_764_300_000_000L);
      assertThat(id.version()).isEqualTo(7);
      assertThat(id.variant()).isEqualTo(2);
      ids.add(id);
    }
    assertThat(ids).hasSize(200_000);
  }
}

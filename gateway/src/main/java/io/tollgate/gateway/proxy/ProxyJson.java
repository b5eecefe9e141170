package io.tollgate.gateway.proxy;

import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The mapper the gateway's event loops read and write calls with. Each parser and generator borrows
 * its buffers from a pool; Jackson 3's default pool is a concurrent deque, which costs a
 * compare-and-set and a new deque node every time a buffer goes back. The event loops are a few
 * platform threads that live as long as the gateway, so a pool per thread serves them without
 * either.
 */
public final class ProxyJson {

  private ProxyJson() {}

  public static ObjectMapper mapper() {
    return JsonMapper.builder(
            JsonFactory.builder().recyclerPool(JsonRecyclerPools.threadLocalPool()).build())
        .build();
  }
}

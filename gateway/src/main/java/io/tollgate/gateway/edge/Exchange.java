package io.tollgate.gateway.edge;

import io.netty.handler.codec.http.HttpContent;

/** One request on a caller's connection and its answer, however it is served. */
interface Exchange {

  /** The next part of the request's body; the exchange owns it (and must release it). */
  void content(HttpContent content);

  /** The caller's connection closed. */
  void callerGone();

  /** The caller's connection can take more after it could not. */
  void callerWritable();

  /** Whether the exchange waits on the caller (for the rest of its request), not on an answer. */
  boolean waitsForCaller();
}

package io.tollgate.gateway.edge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.gateway.admission.Admission;
import io.tollgate.gateway.admission.Admission.Admitted;
import io.tollgate.gateway.admission.Admission.Refused;
import io.tollgate.gateway.admission.CallerKey;
import io.tollgate.gateway.edge.Upstreams.Origin;
import io.tollgate.gateway.events.RequestOutbox;
import io.tollgate.gateway.proxy.CallBody;
import io.tollgate.gateway.proxy.OpenAiErrors;
import io.tollgate.gateway.proxy.SseUsageScanner;
import io.tollgate.gateway.proxy.Usage;
import io.tollgate.gateway.routing.Route;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied call, from the caller's request to its {@link RequestCompleted}: read the body,
 * admit, try the routes in turn, relay the answer as it arrives, measure the tokens, publish. Every
 * step runs on the caller's event loop, the upstream connection's too, so the call needs no lock.
 *
 * <p>Nothing of the caller's request goes upstream but its JSON body (with the upstream's model
 * name): no header, so neither the caller's Tollgate key nor anything else it sent leaks. Nothing
 * of the upstream's response comes back but its status, content type and body.
 */
final class ProxyCall implements Exchange, Upstreams.Listener {

  private static final Logger log = LoggerFactory.getLogger(ProxyCall.class);

  /** The name of the route's read timeout in an upstream connection's pipeline. */
  private static final String ROUTE_TIMEOUT = "timeout";

  private static final Usage NONE = new Usage(0, 0, false);

  private static final FastThreadLocal<byte[]> SCRATCH =
      new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
          return new byte[8192];
        }
      };

  private enum State {
    READING_BODY,
    CONNECTING,
    WAITING_FOR_ANSWER,
    RELAYING_WHOLE,
    RELAYING_STREAM,
    FINISHED
  }

  private final ProxyContext proxy;
  private final Channel caller;
  private final String endpoint;
  private final HttpRequest request;
  private final Runnable done;
  private final long startNanos = System.nanoTime();
  private final Instant startedAt = Instant.now();

  private State state = State.READING_BODY;
  private byte[] body;
  private int bodyLength;

  private CallBody call;
  private String keyId;
  private List<Route> plan;
  private boolean stream;
  private int attempt;
  private int lastStatus = 502;
  private Route route;
  private Origin origin;
  private Channel upstream;
  private boolean upstreamReusable;

  /** The upstream connection had served an earlier call before this one took it from the pool. */
  private boolean upstreamReused;

  /** The call was sent again once because a reused connection closed before answering. */
  private boolean resentOnNewConnection;

  private boolean callerGone;

  /** Set while a caller that holds its stream back has yet to take more. */
  private ScheduledFuture<?> stall;

  private int status;
  private byte[] answer;
  private int answerLength;
  private String answerContentType;
  private SseUsageScanner scanner;

  ProxyCall(
      ProxyContext proxy, Channel caller, String endpoint, HttpRequest request, Runnable done) {
    this.proxy = proxy;
    this.caller = caller;
    this.endpoint = endpoint;
    this.request = request;
    this.done = done;
    proxy.inFlight().incrementAndGet();
  }

  // ---- the caller's request

  @Override
  public void content(HttpContent content) {
    try {
      if (state != State.READING_BODY) {
        return;
      }
      ByteBuf bytes = content.content();
      int length = bytes.readableBytes();
      if ((long) bodyLength + length > proxy.maxBodyBytes()) {
        tooLarge();
        return;
      }
      if (body == null) {
        long announced = HttpUtil.getContentLength(request, -1L);
        body =
            new byte[announced >= 0 && announced <= proxy.maxBodyBytes() ? (int) announced : 8192];
      }
      if (bodyLength + length > body.length) {
        body = Arrays.copyOf(body, Math.max(bodyLength + length, body.length * 2));
      }
      bytes.readBytes(body, bodyLength, length);
      bodyLength += length;
      if (content instanceof LastHttpContent) {
        admit();
      }
    } finally {
      content.release();
    }
  }

  private void tooLarge() {
    ended();
    body = null;
    FullHttpResponse response =
        error(
            HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
            "The request body is larger than " + proxy.maxBodyBytes() + " bytes.",
            "invalid_request_error",
            "request_too_large",
            null);
    HttpUtil.setKeepAlive(response, false);
    // The rest of the body is not read: the connection closes once the caller has the answer.
    caller.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    proxy.timers().record(endpoint, 413, startNanos);
  }

  private void admit() {
    byte[] raw = body.length == bodyLength ? body : Arrays.copyOf(body, bodyLength);
    body = null;
    call = CallBody.parse(proxy.json(), raw);
    if (call == null) {
      refuse(
          HttpResponseStatus.BAD_REQUEST,
          "The request body is not a JSON object.",
          "invalid_request_error",
          "invalid_json",
          null);
      return;
    }
    HttpHeaders headers = request.headers();
    Admission.Decision decision =
        proxy
            .admission()
            .admit(
                CallerKey.presented(
                    headers.get(HttpHeaderNames.AUTHORIZATION), headers.get("x-api-key")),
                call.model());
    if (decision instanceof Refused refused) {
      refuse(
          HttpResponseStatus.valueOf(refused.status()),
          refused.message(),
          refused.type(),
          refused.code(),
          refused.retryAfter());
      return;
    }
    keyId = ((Admitted) decision).key().keyId();
    if (!proxy.outbox().hasRoom()) {
      refuse(
          HttpResponseStatus.SERVICE_UNAVAILABLE,
          "Tollgate cannot record calls right now; try again shortly.",
          "server_error",
          "billing_unavailable",
          null);
      return;
    }
    plan = proxy.routes().plan(call.model(), endpoint);
    if (plan.isEmpty()) {
      refuse(
          HttpResponseStatus.NOT_FOUND,
          "No provider serves the model " + call.model() + ".",
          "invalid_request_error",
          "model_not_found",
          null);
      return;
    }
    stream = call.stream() && endpoint.equals("/chat/completions");
    tryNextRoute();
  }

  // ---- the upstream

  private void tryNextRoute() {
    if (attempt == plan.size()) {
      caller.writeAndFlush(
          error(
              HttpResponseStatus.BAD_GATEWAY,
              "No upstream provider could serve the request.",
              "server_error",
              "upstream_unavailable",
              null));
      finish(false, lastStatus, NONE, 502);
      return;
    }
    route = plan.get(attempt++);
    origin = Origin.of(route.uri());
    connect(true);
  }

  private void connect(boolean mayReuse) {
    state = State.CONNECTING;
    Future<Channel> connecting = proxy.upstreams().acquire(caller.eventLoop(), origin, mayReuse);
    if (connecting.isDone()) {
      connected(connecting);
    } else {
      connecting.addListener(any -> connected(connecting));
    }
  }

  private void connected(Future<Channel> connecting) {
    if (!connecting.isSuccess()) {
      log.warn(
          "provider {} cannot be reached: {}", route.provider(), connecting.cause().toString());
      lastStatus = 502;
      tryNextRoute();
      return;
    }
    Channel channel = connecting.getNow();
    if (callerGone) {
      // Nothing went upstream yet, so there is nothing to pay for and no reason to ask.
      proxy.upstreams().release(channel, origin);
      abandon();
      return;
    }
    upstream = channel;
    upstreamReusable = false;
    upstreamReused = Upstreams.attach(channel, this);
    armRouteTimeout(channel);
    URI uri = route.uri();
    String target =
        uri.getRawQuery() == null ? uri.getRawPath() : uri.getRawPath() + "?" + uri.getRawQuery();
    byte[] forUpstream = call.forUpstream(route.upstreamModel(), stream);
    FullHttpRequest upstreamRequest =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.POST, target, Unpooled.wrappedBuffer(forUpstream));
    HttpHeaders headers = upstreamRequest.headers();
    headers.set(HttpHeaderNames.HOST, origin.hostHeader());
    headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, forUpstream.length);
    if (route.apiKey() != null) {
      headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + route.apiKey());
    }
    state = State.WAITING_FOR_ANSWER;
    channel.writeAndFlush(upstreamRequest).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
  }

  @Override
  public void upstreamRead(Object message) {
    try {
      if (message instanceof HttpResponse response && !answerStarted(response)) {
        return;
      }
      if (message instanceof HttpContent content) {
        if (state == State.RELAYING_STREAM) {
          relayChunk(content);
        } else if (state == State.RELAYING_WHOLE) {
          collect(content);
        }
      }
    } finally {
      ReferenceCountUtil.release(message);
    }
  }

  /**
   * @return false when the answer is refused and the next route tried
   */
  private boolean answerStarted(HttpResponse response) {
    if (state != State.WAITING_FOR_ANSWER) {
      return false;
    }
    int code = response.status().code();
    if (code < 200) {
      return false;
    }
    if (code >= 500 || code == 429) {
      log.warn("provider {} answered {}; trying the next one", route.provider(), code);
      lastStatus = code;
      discardUpstream();
      tryNextRoute();
      return false;
    }
    status = code;
    upstreamReusable = HttpUtil.isKeepAlive(response);
    String contentType = response.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/json");
    if (stream && code == 200 && contentType.startsWith("text/event-stream")) {
      state = State.RELAYING_STREAM;
      scanner = new SseUsageScanner(proxy.json());
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream");
      head.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
      if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
        // HTTP/1.0 has no chunks: the stream goes as it is and ends when the connection does
        // (HttpServerKeepAliveHandler closes it after the last content).
        HttpUtil.setKeepAlive(head, false);
      } else {
        HttpUtil.setTransferEncodingChunked(head, true);
      }
      writeToCaller(head);
    } else {
      state = State.RELAYING_WHOLE;
      long announced = HttpUtil.getContentLength(response, -1L);
      answer = new byte[announced >= 0 && announced <= (1 << 20) ? (int) announced : 8192];
      answerContentType = contentType;
    }
    return true;
  }

  /** Each read of the upstream goes to the caller at once, and through the usage scanner. */
  private void relayChunk(HttpContent content) {
    ByteBuf bytes = content.content();
    int length = bytes.readableBytes();
    if (length > 0) {
      if (bytes.hasArray()) {
        scanner.feed(bytes.array(), bytes.arrayOffset() + bytes.readerIndex(), length);
      } else {
        // Direct buffers (epoll's) are copied out in slices through one array per event loop;
        // the scanner keeps nothing of the array it is fed.
        byte[] scratch = SCRATCH.get();
        for (int done = 0; done < length; done += scratch.length) {
          int slice = Math.min(scratch.length, length - done);
          bytes.getBytes(bytes.readerIndex() + done, scratch, 0, slice);
          scanner.feed(scratch, 0, slice);
        }
      }
      writeToCaller(new DefaultHttpContent(bytes.retain()));
      if (!caller.isWritable() && upstream != null) {
        holdUpstreamBack();
      }
    }
    if (content instanceof LastHttpContent && state == State.RELAYING_STREAM) {
      writeToCaller(LastHttpContent.EMPTY_LAST_CONTENT);
      streamEnded();
    }
  }

  private void collect(HttpContent content) {
    ByteBuf bytes = content.content();
    int length = bytes.readableBytes();
    if (answerLength + length > answer.length) {
      answer = Arrays.copyOf(answer, Math.max(answerLength + length, answer.length * 2));
    }
    bytes.readBytes(answer, answerLength, length);
    answerLength += length;
    if (content instanceof LastHttpContent) {
      byte[] whole = answer.length == answerLength ? answer : Arrays.copyOf(answer, answerLength);
      answer = null;
      releaseUpstream();
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(status),
              Unpooled.wrappedBuffer(whole));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, answerContentType);
      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, whole.length);
      // The caller has its whole answer before the event is made; a caller that left meanwhile
      // still pays: the upstream answered and billed in full.
      writeToCaller(response);
      caller.flush();
      if (status < 200 || status >= 300) {
        finish(false, status, NONE, status);
      } else {
        finish(true, status, proxy.usage().ofWhole(whole, call), status);
      }
    }
  }

  @Override
  public void upstreamClosed(Throwable cause) {
    upstream = null;
    switch (state) {
      case WAITING_FOR_ANSWER -> {
        if (upstreamReused && !resentOnNewConnection) {
          // A provider closes a keep-alive connection it has kept idle long enough (uvicorn and
          // Node after 5 s), and its close can cross the next request on the wire. Nothing was
          // answered, so the call is sent once more, to the same provider on a new connection,
          // rather than counted as the provider's failure: what HTTP clients that pool
          // connections do (OkHttp, Go's net/http).
          log.debug(
              "provider {} closed a reused connection before answering; sending the call again",
              route.provider());
          resentOnNewConnection = true;
          connect(false);
          return;
        }
        log.warn(
            "provider {} cannot be reached: {}",
            route.provider(),
            cause == null ? "it closed the connection" : cause.toString());
        lastStatus = 502;
        tryNextRoute();
      }
      case RELAYING_WHOLE -> {
        log.warn(
            "provider {} broke off its answer: {}",
            route.provider(),
            cause == null ? "it closed the connection" : cause.toString());
        answer = null;
        caller.writeAndFlush(
            error(
                HttpResponseStatus.BAD_GATEWAY,
                "The upstream provider broke off its answer.",
                "server_error",
                "upstream_unavailable",
                null));
        finish(false, 502, NONE, 502);
      }
      case RELAYING_STREAM -> {
        log.warn(
            "the upstream stream broke: {}",
            cause == null ? "the provider closed the connection" : cause.toString());
        writeToCaller(LastHttpContent.EMPTY_LAST_CONTENT);
        streamEnded();
      }
      default -> {
        // Not waiting for it: the call is finished or has not sent anything.
      }
    }
  }

  private void streamEnded() {
    cancelStall();
    if (!callerGone) {
      caller.flush();
    }
    releaseUpstream();
    Usage usage = proxy.usage().ofStream(scanner, call);
    finish(usage != null, 200, usage == null ? NONE : usage, 200);
  }

  // ---- the caller's connection

  /**
   * Writes without flushing: what one read of the upstream produced goes out in one system call
   * when that read is done ({@link #upstreamReadComplete}). A write that fails closes the caller's
   * connection, which ends the call as {@link #callerGone}.
   */
  private void writeToCaller(Object message) {
    if (callerGone) {
      ReferenceCountUtil.release(message);
      return;
    }
    caller.write(message, caller.voidPromise());
  }

  @Override
  public void upstreamReadComplete() {
    if (state == State.RELAYING_STREAM && !callerGone) {
      caller.flush();
    }
  }

  @Override
  public void callerGone() {
    if (callerGone) {
      return;
    }
    callerGone = true;
    switch (state) {
      case READING_BODY -> {
        body = null;
        ended();
      }
      case RELAYING_STREAM -> {
        // The caller left mid-stream: stop the provider generating and charge what it produced.
        discardUpstream();
        streamEnded();
      }
      default -> {
        // Connecting: abandoned once connected. Waiting or collecting a whole answer: it is
        // finished and charged, the upstream bills it in full.
      }
    }
  }

  /**
   * A slow caller holds the upstream back instead of filling the gateway's memory. While it does,
   * the provider is unread rather than silent, so the route's timeout is set aside until the caller
   * takes more; instead the caller gets the edge's idle timeout to take anything at all, after
   * which it counts as gone (and the stream is charged for what it produced).
   */
  private void holdUpstreamBack() {
    upstream.config().setAutoRead(false);
    disarmRouteTimeout(upstream);
    if (stall == null) {
      stall =
          caller
              .eventLoop()
              .schedule(this::callerStalled, proxy.callerStallMillis(), TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void callerWritable() {
    if (upstream != null && state == State.RELAYING_STREAM) {
      cancelStall();
      armRouteTimeout(upstream);
      upstream.config().setAutoRead(true);
    }
  }

  private void callerStalled() {
    stall = null;
    if (state == State.RELAYING_STREAM && !callerGone && !caller.isWritable()) {
      log.info(
          "a caller took nothing of its stream for {} ms; closing its connection",
          proxy.callerStallMillis());
      caller.close();
    }
  }

  private void cancelStall() {
    if (stall != null) {
      stall.cancel(false);
      stall = null;
    }
  }

  @Override
  public boolean waitsForCaller() {
    return state == State.READING_BODY;
  }

  // ---- the end

  /** Once per call, whichever way it ends: the edge's stop waits for calls in flight. */
  private void ended() {
    if (state != State.FINISHED) {
      state = State.FINISHED;
      proxy.inFlight().decrementAndGet();
    }
  }

  private void refuse(
      HttpResponseStatus status, String message, String type, String code, Duration retryAfter) {
    ended();
    caller.writeAndFlush(error(status, message, type, code, retryAfter));
    if (keyId != null) {
      proxy.balances().finished(keyId);
    }
    proxy.timers().record(endpoint, status.code(), startNanos);
    done.run();
  }

  /** The caller left before anything went upstream: no answer, no event. */
  private void abandon() {
    ended();
    proxy.balances().finished(keyId);
    proxy.timers().record(endpoint, 499, startNanos);
  }

  private void finish(boolean success, int eventStatus, Usage usage, int answeredStatus) {
    ended();
    proxy.balances().finished(keyId);
    // Written to the outbox's event log here, on the event loop, so that a process that dies
    // before the publisher sends it leaves it behind for the next start.
    RequestOutbox.Recorded event =
        proxy
            .outbox()
            .record(
                new RequestCompleted(
                    "req_" + UUID.randomUUID(),
                    keyId,
                    call.model(),
                    "/v1" + endpoint,
                    route.provider(),
                    success,
                    eventStatus,
                    usage.promptTokens(),
                    usage.completionTokens(),
                    usage.estimated(),
                    startedAt,
                    Instant.now()));
    proxy.events().publish(event);
    proxy.timers().record(endpoint, answeredStatus, startNanos);
    if (!callerGone) {
      done.run();
    }
  }

  /** The longest the provider may stay silent, before its answer starts and between reads. */
  private void armRouteTimeout(Channel channel) {
    if (channel.pipeline().get(ROUTE_TIMEOUT) == null) {
      channel
          .pipeline()
          .addFirst(
              ROUTE_TIMEOUT,
              new ReadTimeoutHandler(route.timeout().toMillis(), TimeUnit.MILLISECONDS));
    }
  }

  private static void disarmRouteTimeout(Channel channel) {
    if (channel.pipeline().get(ROUTE_TIMEOUT) != null) {
      channel.pipeline().remove(ROUTE_TIMEOUT);
    }
  }

  /** Gives a connection whose answer was read to the end back to the pool. */
  private void releaseUpstream() {
    Channel channel = upstream;
    upstream = null;
    if (channel == null) {
      return;
    }
    disarmRouteTimeout(channel);
    if (upstreamReusable) {
      proxy.upstreams().release(channel, origin);
    } else {
      Upstreams.detach(channel);
      channel.close();
    }
  }

  /** Closes a connection whose answer is not wanted, which also stops the provider's work. */
  private void discardUpstream() {
    Channel channel = upstream;
    upstream = null;
    if (channel != null) {
      Upstreams.detach(channel);
      channel.close();
    }
  }

  private FullHttpResponse error(
      HttpResponseStatus status, String message, String type, String code, Duration retryAfter) {
    byte[] bytes = OpenAiErrors.body(proxy.json(), message, type, code);
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    if (retryAfter != null) {
      response
          .headers()
          .set(HttpHeaderNames.RETRY_AFTER, OpenAiErrors.retryAfterSeconds(retryAfter));
    }
    return response;
  }
}

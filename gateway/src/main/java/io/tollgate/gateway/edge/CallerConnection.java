package io.tollgate.gateway.edge;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One caller's connection. A POST to {@code /v1/chat/completions} or {@code /v1/embeddings} is a
 * {@link ProxyCall}; every other request goes to the web application behind the edge ({@link
 * WebAppLink}), which serves /v1/models, the admin API, the console and the actuator.
 *
 * <p>Requests are served one at a time, in order: one that arrives before the previous answer is
 * complete (HTTP pipelining) waits.
 */
final class CallerConnection extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(CallerConnection.class);

  private final ProxyContext proxy;
  private final WebAppLink.Target webApp;
  private final ArrayDeque<Object> waiting = new ArrayDeque<>();
  private ChannelHandlerContext context;
  private WebAppLink link;
  private Exchange current;
  private boolean requestRead;

  private final BooleanSupplier draining;

  /**
   * @param draining true once the edge stops: each connection closes when its answer is complete
   */
  CallerConnection(ProxyContext proxy, WebAppLink.Target webApp, BooleanSupplier draining) {
    this.proxy = proxy;
    this.webApp = webApp;
    this.draining = draining;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext context) {
    this.context = context;
  }

  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    if ((current != null && requestRead) || !waiting.isEmpty()) {
      waiting.add(message);
      return;
    }
    dispatch(message);
  }

  private void dispatch(Object message) {
    if (message instanceof HttpRequest request) {
      if (request.decoderResult().isFailure()) {
        ReferenceCountUtil.release(message);
        malformed(request.decoderResult().cause());
        return;
      }
      requestRead = false;
      String endpoint = proxiedEndpoint(request);
      if (endpoint != null) {
        current = new ProxyCall(proxy, context.channel(), endpoint, request, this::exchangeDone);
      } else {
        if (link == null) {
          link = new WebAppLink(context.channel(), webApp, this::exchangeDone);
        }
        link.request(request);
        current = link;
      }
    }
    if (message instanceof HttpContent content) {
      if (current == null) {
        content.release();
        return;
      }
      if (content instanceof LastHttpContent) {
        requestRead = true;
      }
      current.content(content);
    }
  }

  /** "/chat/completions" or "/embeddings" for a POST the gateway proxies; null for the rest. */
  private static String proxiedEndpoint(HttpRequest request) {
    if (!HttpMethod.POST.equals(request.method())) {
      return null;
    }
    String uri = request.uri();
    int query = uri.indexOf('?');
    String path = query < 0 ? uri : uri.substring(0, query);
    return switch (path) {
      case "/v1/chat/completions" -> "/chat/completions";
      case "/v1/embeddings" -> "/embeddings";
      default -> null;
    };
  }

  /** The current answer is complete: the next request, if one waits, is served. */
  private void exchangeDone() {
    current = null;
    requestRead = false;
    if (draining.getAsBoolean()) {
      closeIfIdle();
      return;
    }
    if (!waiting.isEmpty()) {
      // Not from inside the finished exchange's own call stack.
      context.executor().execute(this::serveWaiting);
    }
  }

  /** While the edge stops: a connection with no answer under way is closed (once it is flushed). */
  void closeIfIdle() {
    if (current == null && context.channel().isOpen()) {
      context.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void serveWaiting() {
    while (!waiting.isEmpty() && !(current != null && requestRead)) {
      dispatch(waiting.poll());
    }
  }

  private void malformed(Throwable cause) {
    byte[] text =
        ("The request could not be read as HTTP: " + cause.getMessage())
            .getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST, Unpooled.wrappedBuffer(text));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, text.length);
    HttpUtil.setKeepAlive(response, false);
    context.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext context) {
    Exchange gone = current;
    current = null;
    if (gone != null) {
      gone.callerGone();
    }
    if (link != null) {
      link.close();
    }
    waiting.forEach(ReferenceCountUtil::release);
    waiting.clear();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext context) {
    if (current != null && context.channel().isWritable()) {
      current.callerWritable();
    }
  }

  /**
   * Nothing read from the caller for the idle timeout: a connection that waits for nothing but the
   * caller (kept alive between calls, or a request that stopped arriving) is closed. One waiting
   * for an answer is not: the route's timeout bounds that.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext context, Object event) {
    if (event instanceof IdleStateEvent) {
      if (current == null || current.waitsForCaller()) {
        context.close();
      }
      return;
    }
    context.fireUserEventTriggered(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
    log.debug("a caller's connection failed: {}", cause.toString());
    context.close();
  }
}

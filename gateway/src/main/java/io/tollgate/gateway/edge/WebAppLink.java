package io.tollgate.gateway.edge;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes a caller's requests that the edge does not proxy to the web application (Spring MVC on
 * Tomcat, on the loopback interface), and its answers back, part by part as they come. Each caller
 * connection gets its own connection to the web application when it first needs one, on the same
 * event loop.
 */
final class WebAppLink implements Exchange {

  private static final Logger log = LoggerFactory.getLogger(WebAppLink.class);

  /** Where the web application listens, and how to reach it. */
  record Target(Bootstrap template, InetSocketAddress address) {}

  private final Channel caller;
  private final Target target;
  private final Runnable done;
  private final List<Object> pending = new ArrayList<>();
  private Channel backend;
  private boolean connected;
  private boolean awaitingAnswer;
  private boolean answerStarted;

  WebAppLink(Channel caller, Target target, Runnable done) {
    this.caller = caller;
    this.target = target;
    this.done = done;
  }

  void request(HttpRequest request) {
    if (backend == null || !backend.isOpen()) {
      connect();
    }
    awaitingAnswer = true;
    answerStarted = false;
    String forwardedFor =
        caller.remoteAddress() instanceof InetSocketAddress address
            ? address.getAddress().getHostAddress()
            : null;
    if (forwardedFor != null) {
      request.headers().set("X-Forwarded-For", forwardedFor);
    }
    send(request, false);
  }

  @Override
  public void content(HttpContent content) {
    send(content, content instanceof LastHttpContent);
  }

  private void send(Object message, boolean flush) {
    if (!connected) {
      pending.add(message);
      return;
    }
    if (flush) {
      backend.writeAndFlush(message);
    } else {
      backend.write(message);
    }
  }

  private void connect() {
    connected = false;
    ChannelFuture connecting =
        target
            .template()
            .clone(caller.eventLoop())
            .handler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    channel.pipeline().addLast(new HttpClientCodec(), new Answers());
                  }
                })
            .connect(target.address());
    backend = connecting.channel();
    connecting.addListener(
        done -> {
          if (!done.isSuccess()) {
            log.warn("the web application cannot be reached: {}", done.cause().toString());
            pending.forEach(ReferenceCountUtil::release);
            pending.clear();
            unavailable();
            return;
          }
          connected = true;
          pending.forEach(backend::write);
          pending.clear();
          backend.flush();
        });
  }

  /** The web application did not answer: the caller hears so, and its connection closes. */
  private void unavailable() {
    awaitingAnswer = false;
    if (answerStarted) {
      caller.close();
      return;
    }
    byte[] text = "The web application is not available.".getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY, Unpooled.wrappedBuffer(text));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, text.length);
    HttpUtil.setKeepAlive(response, false);
    caller.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void callerGone() {
    close();
  }

  @Override
  public void callerWritable() {
    if (backend != null) {
      backend.config().setAutoRead(true);
    }
  }

  /** The web application keeps its own time limits on a request that is slow to arrive. */
  @Override
  public boolean waitsForCaller() {
    return false;
  }

  void close() {
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
    if (backend != null) {
      backend.close();
    }
  }

  /** The web application's answer, passed to the caller part by part. */
  private final class Answers extends ChannelInboundHandlerAdapter {

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
      if (!awaitingAnswer) {
        ReferenceCountUtil.release(message);
        return;
      }
      if (message instanceof HttpResponse response && response.status().code() < 200) {
        // 100 Continue and the like were answered to the caller by the edge itself.
        ReferenceCountUtil.release(message);
        return;
      }
      answerStarted = true;
      boolean last = message instanceof LastHttpContent;
      caller.writeAndFlush(message);
      if (!caller.isWritable()) {
        context.channel().config().setAutoRead(false);
      }
      if (last) {
        awaitingAnswer = false;
        done.run();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
      if (context.channel() == backend) {
        backend = null;
        connected = false;
      }
      if (awaitingAnswer) {
        unavailable();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
      log.debug("the connection to the web application failed: {}", cause.toString());
      context.close();
    }
  }
}

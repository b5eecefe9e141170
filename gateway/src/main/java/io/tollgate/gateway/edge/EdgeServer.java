package io.tollgate.gateway.edge;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * The gateway's public port: Netty event loops, one per core, that serve proxied calls themselves
 * and pass every other request to the web application behind them. Starts once the web application
 * listens and stops before it does.
 *
 * <p>Once bound, the port is in the environment as {@value #PORT_PROPERTY}.
 */
public final class EdgeServer implements SmartLifecycle {

  public static final String PORT_PROPERTY = "local.tollgate.port";

  private static final Logger log = LoggerFactory.getLogger(EdgeServer.class);

  private final ProxyContext proxy;
  private final String address;
  private final int port;
  private final int threads;
  private final IntSupplier webAppPort;
  private final ConfigurableEnvironment environment;
  private final Duration grace;
  private final Duration idleTimeout;
  private final ChannelGroup callers = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private volatile boolean draining;
  private EventLoopGroup loops;
  private Channel server;

  EdgeServer(
      ProxyContext proxy,
      String address,
      int port,
      int threads,
      IntSupplier webAppPort,
      ConfigurableEnvironment environment,
      Duration grace,
      Duration idleTimeout) {
    this.proxy = proxy;
    this.address = address;
    this.port = port;
    this.threads = threads;
    this.webAppPort = webAppPort;
    this.environment = environment;
    this.grace = grace;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void start() {
    Transport transport = proxy.upstreams().transport();
    loops = transport.loops(threads);
    WebAppLink.Target webApp =
        new WebAppLink.Target(
            new Bootstrap()
                .channel(transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), webAppPort.getAsInt()));
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(loops)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    channel
                        .pipeline()
                        .addLast(
                            // Reads only: timing writes too would cost a promise per write.
                            new IdleStateHandler(
                                idleTimeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS),
                            new HttpServerCodec(),
                            new HttpServerKeepAliveHandler(),
                            new HttpServerExpectContinueHandler(),
                            new CallerConnection(proxy, webApp, () -> draining));
                    callers.add(channel);
                  }
                });
    InetSocketAddress bindTo =
        address == null || address.isBlank()
            ? new InetSocketAddress(port)
            : new InetSocketAddress(address, port);
    try {
      server = bootstrap.bind(bindTo).syncUninterruptibly().channel();
    } catch (RuntimeException cannotBind) {
      loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new IllegalStateException(
          "the gateway cannot listen on " + bindTo + ": " + cannotBind.getMessage(), cannotBind);
    }
    int bound = ((InetSocketAddress) server.localAddress()).getPort();
    environment
        .getPropertySources()
        .addFirst(new MapPropertySource("tollgateEdge", Map.of(PORT_PROPERTY, bound)));
    log.info(
        "Tollgate serves on port {} ({} event {}, {}); the web application behind it is on {}",
        bound,
        threads,
        threads == 1 ? "loop" : "loops",
        transport.name(),
        webApp.address());
  }

  /**
   * Takes no new connection, lets the calls under way finish (streams included) for up to the grace
   * period, closing each connection once its answer is complete, then stops the event loops. A call
   * still running after the grace period is cut off; its event is still published.
   */
  @Override
  public void stop() {
    if (server != null) {
      draining = true;
      server.close().syncUninterruptibly();
      server = null;
      for (Channel caller : callers) {
        caller
            .eventLoop()
            .execute(
                () -> {
                  CallerConnection connection = caller.pipeline().get(CallerConnection.class);
                  if (connection != null) {
                    connection.closeIfIdle();
                  }
                });
      }
      long deadline = System.nanoTime() + grace.toNanos();
      while ((!callers.isEmpty() || proxy.inFlight().get() > 0) && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (proxy.inFlight().get() > 0 || !callers.isEmpty()) {
        log.warn(
            "{} calls and {} connections were still open after {}; they are cut off",
            proxy.inFlight().get(),
            callers.size(),
            grace);
      }
    }
    if (loops != null) {
      loops.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
      loops = null;
    }
  }

  @Override
  public boolean isRunning() {
    return server != null;
  }

  /** After the web application's start and graceful-shutdown phases: up after it, down before. */
  @Override
  public int getPhase() {
    return WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE + 1;
  }

  /** The port it listens on, once started. */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** The I/O the edge runs on: io_uring, epoll or nio. */
  public String transport() {
    return proxy.upstreams().transport().name();
  }
}

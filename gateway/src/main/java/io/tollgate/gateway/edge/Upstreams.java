package io.tollgate.gateway.edge;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Connections to the providers, kept open for reuse. Each event loop has its own idle connections
 * per origin and opens new ones on itself, so a call's upstream connection lives on the same thread
 * as the caller's: no lock, no hand-off between the two halves of a call.
 *
 * <p>Bodies pass as they are (no decompression, no redirects, no retries: retrying is the router's
 * decision, and {@link ProxyCall}'s when a reused connection closes before answering). TLS origins
 * are verified against the JDK's trust store and the host name.
 */
final class Upstreams {

  /** Where a connection goes; connections are shared by calls to the same origin. */
  record Origin(boolean tls, String host, int port) {

    static Origin of(URI uri) {
      boolean tls = "https".equalsIgnoreCase(uri.getScheme());
      int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
      return new Origin(tls, uri.getHost(), port);
    }

    String hostHeader() {
      return (tls && port == 443) || (!tls && port == 80) ? host : host + ":" + port;
    }
  }

  /** What a call hears from its upstream connection while it holds it. */
  interface Listener {
    void upstreamRead(Object message);

    void upstreamClosed(Throwable cause);

    /** The connection has no more to read for now: what was relayed can be flushed. */
    void upstreamReadComplete();
  }

  private static final int MAX_IDLE_PER_ORIGIN = 256;

  private final Transport transport;
  private final Bootstrap template;
  private final SslContext tls;
  private final Executor resolver;
  private final FastThreadLocal<Map<Origin, ArrayDeque<Channel>>> idle =
      new FastThreadLocal<>() {
        @Override
        protected Map<Origin, ArrayDeque<Channel>> initialValue() {
          return new HashMap<>();
        }
      };

  /**
   * @param extraAuthorities a PEM file of certificate authorities that upstream TLS trusts besides
   *     the JDK's (a private CA of a self-hosted provider), or null
   */
  Upstreams(Transport transport, Duration connectTimeout, Path extraAuthorities) {
    this.transport = transport;
    this.template =
        new Bootstrap()
            .channel(transport.socketChannel())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
            // Addresses arrive resolved (see acquire); Netty's default would look names up on the
            // event loop.
            .resolver(NoopAddressResolverGroup.INSTANCE);
    ThreadPoolExecutor lookups =
        new ThreadPoolExecutor(
            2,
            2,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            task -> {
              Thread thread = new Thread(task, "upstream-dns");
              thread.setDaemon(true);
              return thread;
            });
    lookups.allowCoreThreadTimeOut(true);
    this.resolver = lookups;
    try {
      this.tls = SslContextBuilder.forClient().trustManager(trust(extraAuthorities)).build();
    } catch (SSLException unusable) {
      throw new IllegalStateException("the JDK's TLS cannot be set up: " + unusable, unusable);
    }
  }

  /** The JDK's trusted authorities, and those of the file when one is given. */
  private static TrustManagerFactory trust(Path extraAuthorities) {
    try {
      TrustManagerFactory jdk =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      jdk.init((KeyStore) null);
      if (extraAuthorities == null) {
        return jdk;
      }
      KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
      anchors.load(null, null);
      int n = 0;
      for (TrustManager manager : jdk.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          for (X509Certificate authority : x509.getAcceptedIssuers()) {
            anchors.setCertificateEntry("jdk-" + n++, authority);
          }
        }
      }
      try (InputStream pem = Files.newInputStream(extraAuthorities)) {
        Collection<? extends Certificate> extra =
            CertificateFactory.getInstance("X.509").generateCertificates(pem);
        if (extra.isEmpty()) {
          throw new IllegalArgumentException(
              "tollgate.gateway.upstream-ca-file " + extraAuthorities + " holds no certificate");
        }
        for (Certificate authority : extra) {
          anchors.setCertificateEntry("extra-" + n++, authority);
        }
      }
      TrustManagerFactory both =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      both.init(anchors);
      return both;
    } catch (IOException | GeneralSecurityException unreadable) {
      throw new IllegalArgumentException(
          "tollgate.gateway.upstream-ca-file "
              + extraAuthorities
              + " cannot be read: "
              + unreadable,
          unreadable);
    }
  }

  Transport transport() {
    return transport;
  }

  /**
   * An idle connection to the origin from this loop's pool, or a new one. Must be called on {@code
   * loop}; the future completes on it.
   *
   * @param mayReuse false for a new connection whatever the pool holds
   */
  Future<Channel> acquire(EventLoop loop, Origin origin, boolean mayReuse) {
    ArrayDeque<Channel> pool = mayReuse ? idle.get().get(origin) : null;
    if (pool != null) {
      Channel channel;
      while ((channel = pool.pollLast()) != null) {
        if (channel.isActive()) {
          return loop.newSucceededFuture(channel);
        }
      }
    }
    Promise<Channel> connected = loop.newPromise();
    if (NetUtil.createByteArrayFromIpAddressString(origin.host()) != null) {
      connect(loop, origin, new InetSocketAddress(origin.host(), origin.port()), connected);
      return connected;
    }
    // A name is looked up off the event loop: the JDK's lookup blocks, for as long as a slow DNS
    // server takes, and would stall every call on the loop. Lookups are cached by the JDK, and a
    // new connection is rare beside the calls that reuse one.
    resolver.execute(
        () -> {
          InetSocketAddress address = new InetSocketAddress(origin.host(), origin.port());
          loop.execute(
              () -> {
                if (address.isUnresolved()) {
                  connected.setFailure(
                      new UnknownHostException("the host " + origin.host() + " is not known"));
                } else {
                  connect(loop, origin, address, connected);
                }
              });
        });
    return connected;
  }

  private void connect(
      EventLoop loop, Origin origin, InetSocketAddress address, Promise<Channel> connected) {
    ChannelFuture connecting =
        template
            .clone(loop)
            .handler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    if (origin.tls()) {
                      SslHandler handler =
                          tls.newHandler(channel.alloc(), origin.host(), origin.port());
                      SSLParameters parameters = handler.engine().getSSLParameters();
                      parameters.setEndpointIdentificationAlgorithm("HTTPS");
                      handler.engine().setSSLParameters(parameters);
                      channel.pipeline().addLast(handler);
                    }
                    channel.pipeline().addLast(new HttpClientCodec());
                    channel.pipeline().addLast(new Relay());
                  }
                })
            .connect(address);
    connecting.addListener(
        done -> {
          if (done.isSuccess()) {
            connected.setSuccess(connecting.channel());
          } else {
            connected.setFailure(done.cause());
          }
        });
  }

  /**
   * Hands the connection to a call: what it reads from now on goes to the listener.
   *
   * @return whether the connection was in the pool before (it was taken back after an earlier
   *     exchange), rather than newly opened
   */
  static boolean attach(Channel channel, Listener listener) {
    Relay relay = channel.pipeline().get(Relay.class);
    relay.listener = listener;
    return relay.pooled;
  }

  /** Stops passing the connection's events on, before it is closed. */
  static void detach(Channel channel) {
    Relay relay = channel.pipeline().get(Relay.class);
    if (relay != null) {
      relay.listener = null;
    }
  }

  /**
   * Takes back a connection whose exchange is complete. Must be called on the loop it belongs to;
   * connections past the pool's bound are closed.
   */
  void release(Channel channel, Origin origin) {
    Relay relay = channel.pipeline().get(Relay.class);
    if (relay != null) {
      relay.listener = null;
    }
    if (!channel.isActive()) {
      return;
    }
    ArrayDeque<Channel> pool = idle.get().computeIfAbsent(origin, any -> new ArrayDeque<>());
    if (pool.size() >= MAX_IDLE_PER_ORIGIN) {
      channel.close();
      return;
    }
    channel.config().setAutoRead(true);
    relay.pooled = true;
    pool.addLast(channel);
  }

  /** Passes a connection's events to the call that holds it; an idle connection drops them. */
  private static final class Relay extends ChannelInboundHandlerAdapter {

    private Listener listener;
    private boolean pooled;

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
      if (listener == null) {
        // An idle connection has nothing to say; whatever it sent makes it unusable.
        ReferenceCountUtil.release(message);
        context.close();
        return;
      }
      listener.upstreamRead(message);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
      if (listener != null) {
        listener.upstreamReadComplete();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
      Listener current = listener;
      listener = null;
      if (current != null) {
        current.upstreamClosed(null);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
      Listener current = listener;
      listener = null;
      context.close();
      if (current != null) {
        current.upstreamClosed(cause);
      }
    }
  }
}

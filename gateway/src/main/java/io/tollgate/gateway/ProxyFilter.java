package io.tollgate.gateway;

import io.tollgate.gateway.proxy.ProxyHandler;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Answers a proxied POST ahead of every other filter and of Spring MVC: the call needs none of
 * their work (request observation, character encoding, form parsing, handler mapping and argument
 * resolution), which cost more CPU per call than the proxying itself. Other methods go on to {@link
 * GatewayController}, which answers them as before.
 */
final class ProxyFilter implements Filter {

  private final ProxyHandler proxy;
  private final String endpoint;

  /**
   * @param endpoint "/chat/completions" or "/embeddings"
   */
  ProxyFilter(ProxyHandler proxy, String endpoint) {
    this.proxy = proxy;
    this.endpoint = endpoint;
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (request instanceof HttpServletRequest http
        && response instanceof HttpServletResponse answer
        && "POST".equals(http.getMethod())) {
      proxy.handle(endpoint, http, answer);
      return;
    }
    chain.doFilter(request, response);
  }
}

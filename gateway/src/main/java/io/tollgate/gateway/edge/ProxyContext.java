package io.tollgate.gateway.edge;

import io.tollgate.gateway.admission.Admission;
import io.tollgate.gateway.admission.BalanceView;
import io.tollgate.gateway.events.RequestOutbox;
import io.tollgate.gateway.proxy.AnswerUsage;
import io.tollgate.gateway.routing.Routes;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.ObjectMapper;

/**
 * What every proxied call uses, shared by all of them.
 *
 * @param callerStallMillis how long a caller that holds its stream back may take nothing before it
 *     is treated as gone (the edge's idle timeout)
 * @param inFlight proxied calls begun and not yet ended
 */
record ProxyContext(
    Admission admission,
    BalanceView balances,
    Routes routes,
    RequestOutbox outbox,
    EventHandOff<RequestOutbox.Recorded> events,
    Upstreams upstreams,
    ObjectMapper json,
    AnswerUsage usage,
    CallTimers timers,
    int maxBodyBytes,
    long callerStallMillis,
    AtomicInteger inFlight) {}

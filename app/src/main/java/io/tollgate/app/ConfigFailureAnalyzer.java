package io.tollgate.app;

import io.tollgate.config.ConfigException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a configuration file that cannot be used into a start-up failure that says so in one line,
 * instead of a bean-creation stack trace with the reason at its bottom.
 */
class ConfigFailureAnalyzer extends AbstractFailureAnalyzer<ConfigException> {

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, ConfigException cause) {
    return new FailureAnalysis(
        cause.getMessage(),
        "Correct the configuration file (TOLLGATE_CONFIG, default ./api.yaml) and start again.",
        cause);
  }
}

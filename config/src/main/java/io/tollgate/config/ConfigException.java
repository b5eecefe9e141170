package io.tollgate.config;

/** The configuration file cannot be used; the message names the file, the entry and the problem. */
public class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.tollgate.admin;

import org.springframework.http.HttpStatus;

/**
 * A refusal the caller should see, with the HTTP status it maps to. {@code param} names the request
 * parameter at fault, when one is.
 */
public class ApiError extends RuntimeException {

  private final HttpStatus status;
  private final String type;
  private final String code;
  private final String param;

  public ApiError(HttpStatus status, String type, String code, String param, String message) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }

  public static ApiError badParameter(String param, String message) {
    return new ApiError(
        HttpStatus.BAD_REQUEST, "invalid_request_error", "invalid_parameter", param, message);
  }

  public static ApiError forbidden(String message) {
    return new ApiError(
        HttpStatus.FORBIDDEN, "invalid_request_error", "invalid_api_key", null, message);
  }

  public static ApiError notFound(String param, String message) {
    return new ApiError(HttpStatus.NOT_FOUND, "invalid_request_error", "not_found", param, message);
  }

  public static ApiError conflict(String param, String message) {
    return new ApiError(HttpStatus.CONFLICT, "invalid_request_error", "conflict", param, message);
  }

  public HttpStatus status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String code() {
    return code;
  }

  public String param() {
    return param;
  }
}

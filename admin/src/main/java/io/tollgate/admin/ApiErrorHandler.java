package io.tollgate.admin;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * Errors in OpenAI's body shape ({@code error.message/type/code/param}), plus uni-api's {@code
 * detail}, which FastAPI put on every error and which existing admin scripts read.
 */
@RestControllerAdvice(basePackageClasses = ApiErrorHandler.class)
class ApiErrorHandler {

  @ExceptionHandler(ApiError.class)
  ResponseEntity<Map<String, Object>> apiError(ApiError e) {
    return body(e.status(), e.type(), e.code(), e.param(), e.getMessage());
  }

  @ExceptionHandler(MissingServletRequestParameterException.class)
  ResponseEntity<Map<String, Object>> missing(MissingServletRequestParameterException e) {
    return body(
        HttpStatus.BAD_REQUEST,
        "invalid_request_error",
        "invalid_parameter",
        e.getParameterName(),
        "Parameter '" + e.getParameterName() + "' is required.");
  }

  @ExceptionHandler(MethodArgumentTypeMismatchException.class)
  ResponseEntity<Map<String, Object>> mismatch(MethodArgumentTypeMismatchException e) {
    return body(
        HttpStatus.BAD_REQUEST,
        "invalid_request_error",
        "invalid_parameter",
        e.getName(),
        "Parameter '" + e.getName() + "' has an invalid value.");
  }

  static ResponseEntity<Map<String, Object>> body(
      HttpStatus status, String type, String code, String param, String message) {
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("message", message);
    error.put("type", type);
    error.put("code", code);
    error.put("param", param);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", error);
    body.put("detail", message);
    return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(body);
  }
}

package io.tollgate.app;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiConfigParser;
import java.nio.file.Path;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Reads api.yaml once at start; a file that cannot be used stops the start with its reason. */
@Configuration(proxyBeanMethods = false)
class ApiConfigConfiguration {

  @Bean
  ApiConfig apiConfig(@Value("${tollgate.config}") String path) {
    return ApiConfigParser.parse(Path.of(path).toAbsolutePath().normalize());
  }
}

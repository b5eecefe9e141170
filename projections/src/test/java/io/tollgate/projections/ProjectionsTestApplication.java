package io.tollgate.projections;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiConfigParser;
import java.nio.file.Path;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** The ledger and the views, without any web layer, on the shipped sample api.yaml. */
@SpringBootApplication(scanBasePackages = {"io.tollgate.ledger", "io.tollgate.projections"})
public class ProjectionsTestApplication {

  @Bean
  ApiConfig apiConfig(@Value("${tollgate.config:../api.yaml}") String path) {
    return ApiConfigParser.parse(Path.of(path));
  }
}

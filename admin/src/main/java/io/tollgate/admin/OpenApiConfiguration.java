package io.tollgate.admin;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The admin API's description at springdoc's usual paths: /v3/api-docs and /swagger-ui.html. */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

  @Bean
  OpenAPI tollgateAdminApi() {
    return new OpenAPI()
        .info(
            new Info()
                .title("Tollgate admin API")
                .description(
                    "uni-api compatible billing endpoints, kept as ledger events. Keys in "
                        + "Authorization: Bearer or x-api-key. Amounts are exact JSON numbers.")
                .version("v1"))
        .components(
            new Components()
                .addSecuritySchemes(
                    "bearer",
                    new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")));
  }
}

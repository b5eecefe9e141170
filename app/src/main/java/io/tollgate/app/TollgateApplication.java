package io.tollgate.app;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** One jar for every role: gateway, ledger and projections, or any of them alone. */
@SpringBootApplication(scanBasePackages = "io.tollgate")
public class TollgateApplication {

  public static void main(String[] args) {
    SpringApplication.run(TollgateApplication.class, args);
  }
}

package io.switchboard.router;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The router on its own (distributed form); instances form one consumer group. */
@SpringBootApplication(scanBasePackages = {"io.switchboard.router", "io.switchboard.store"})
public class RouterApplication {

    public static void main(String[] args) {
        SpringApplication.run(RouterApplication.class, args);
    }
}

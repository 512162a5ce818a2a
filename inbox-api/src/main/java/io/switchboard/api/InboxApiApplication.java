package io.switchboard.api;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** inbox-api on its own (distributed form): the agents' API over the shared store. */
@SpringBootApplication(scanBasePackages = {"io.switchboard.api", "io.switchboard.store"})
public class InboxApiApplication {

    public static void main(String[] args) {
        SpringApplication.run(InboxApiApplication.class, args);
    }
}

package io.switchboard.channel.webform;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** channel-webform on its own (distributed form): the contact form and its JSON twin, Kafka only. */
@SpringBootApplication
public class WebformAdapterApplication {

    public static void main(String[] args) {
        SpringApplication.run(WebformAdapterApplication.class, args);
    }
}

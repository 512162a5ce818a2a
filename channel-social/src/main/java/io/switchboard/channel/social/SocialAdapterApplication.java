package io.switchboard.channel.social;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** channel-social on its own (distributed form): VK and Facebook webhooks in, replies out, Kafka only. */
@SpringBootApplication
public class SocialAdapterApplication {

    public static void main(String[] args) {
        SpringApplication.run(SocialAdapterApplication.class, args);
    }
}

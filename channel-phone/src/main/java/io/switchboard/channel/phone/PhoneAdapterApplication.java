package io.switchboard.channel.phone;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** channel-phone on its own (distributed form): PBX call webhooks in, Kafka only. */
@SpringBootApplication
public class PhoneAdapterApplication {

    public static void main(String[] args) {
        SpringApplication.run(PhoneAdapterApplication.class, args);
    }
}

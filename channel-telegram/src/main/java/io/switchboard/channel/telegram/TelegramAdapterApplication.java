package io.switchboard.channel.telegram;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** channel-telegram on its own (distributed form): webhook in, replies out, Kafka only. */
@SpringBootApplication
public class TelegramAdapterApplication {

    public static void main(String[] args) {
        SpringApplication.run(TelegramAdapterApplication.class, args);
    }
}

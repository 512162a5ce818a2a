package io.switchboard.channel.email;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** channel-email on its own (distributed form): IMAP in, SMTP out, Kafka only. */
@SpringBootApplication
public class EmailAdapterApplication {

    public static void main(String[] args) {
        SpringApplication.run(EmailAdapterApplication.class, args);
    }
}

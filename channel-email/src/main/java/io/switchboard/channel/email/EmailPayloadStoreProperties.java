package io.switchboard.channel.email;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.time.Duration;

/**
 * Where messages over {@code switchboard.email.max-message-bytes} are stored ({@code switchboard.email.payload-store.*}).
 *
 * @param uri        MongoDB connection string of the document store (EMAIL_PAYLOAD_STORE_URI); when empty, the
 *                   product's own store {@code spring.mongodb.uri} (SPRING_MONGODB_URI, in standalone the embedded
 *                   store); {@code off}, or empty with no store at all: large messages are published in reduced form.
 *                   The database is the one named in the URI ({@code test} when it names none, as in Spring Boot);
 *                   it must be the router's database
 * @param chunkBytes size of one stored chunk (default 1 MB)
 * @param timeout    how long one store operation may wait for the server (default PT10S); on failure the message
 *                   is neither published nor flagged and the mailbox is retried with the reconnect backoff
 */
@ConfigurationProperties("switchboard.email.payload-store")
public record EmailPayloadStoreProperties(String uri, int chunkBytes, Duration timeout) {

    public EmailPayloadStoreProperties {
        uri = uri == null ? "" : uri.strip();
        chunkBytes = chunkBytes <= 0 ? 1024 * 1024 : chunkBytes;
        timeout = timeout == null || timeout.isZero() || timeout.isNegative() ? Duration.ofSeconds(10) : timeout;
    }
}

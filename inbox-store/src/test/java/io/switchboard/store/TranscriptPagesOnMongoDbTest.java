package io.switchboard.store;

import com.mongodb.client.MongoClients;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.mongodb.MongoDBContainer;

/**
 * {@link TranscriptPagesTest} on a real MongoDB, which refuses documents over 16 MB (the embedded store
 * does not): skipped where there is no Docker, as on our machines and CI.
 */
@Testcontainers(disabledWithoutDocker = true)
class TranscriptPagesOnMongoDbTest extends TranscriptPagesTest {

    @Container
    static final MongoDBContainer MONGO = new MongoDBContainer("mongo:8.0");

    // these hide the embedded server's methods of the same names
    @BeforeAll
    static void start() {
        client = MongoClients.create(MONGO.getConnectionString());
    }

    @AfterAll
    static void stop() {
        client.close();
    }
}

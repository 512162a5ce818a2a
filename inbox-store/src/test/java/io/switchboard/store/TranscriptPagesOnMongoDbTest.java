package io.switchboard.store;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.data.mongodb.core.MongoTemplate;
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
    static final MongoDBContainer MONGODB = new MongoDBContainer("mongo:8.0");

    static MongoClient client;

    @BeforeAll
    static void connect() {
        client = MongoClients.create(MONGODB.getConnectionString());
    }

    @AfterAll
    static void disconnect() {
        client.close();
    }

    @Override
    MongoTemplate database(String prefix) {
        return new MongoTemplate(client, prefix + System.nanoTime());
    }
}

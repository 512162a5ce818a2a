package io.switchboard.store;

import com.mongodb.client.MongoClient;
import org.bson.Document;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/**
 * Pings the store on the {@code admin} database. Boot's own MongoDB indicator sends {@code hello}
 * to the application database, which the embedded store does not answer, so it is turned off.
 */
@Component("storeHealthIndicator")
class StoreHealthIndicator extends AbstractHealthIndicator {

    private final MongoClient client;

    StoreHealthIndicator(MongoClient client) {
        super("Store health check failed");
        this.client = client;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        client.getDatabase("admin").runCommand(new Document("ping", 1));
        builder.up();
    }
}

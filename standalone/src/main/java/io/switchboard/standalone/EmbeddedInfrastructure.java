package io.switchboard.standalone;

import io.switchboard.channel.email.EmailPayloadDurability;
import io.switchboard.store.StoreDurability;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts what the standalone mode embeds, under {@code INBOX_DATA_DIR} (default {@code ./data}):
 * a real KRaft Kafka broker and a MongoDB-compatible store on an H2 file. Each is skipped when
 * its external address is configured ({@code SPRING_KAFKA_BOOTSTRAP_SERVERS},
 * {@code SPRING_MONGODB_URI}).
 *
 * <p>It runs as an initializer: the environment and logging are ready, no bean exists yet. It is
 * registered as the first singleton, so it is destroyed last, after the consumers, the web server
 * and the clients that use it.
 */
public class EmbeddedInfrastructure implements ApplicationContextInitializer<ConfigurableApplicationContext>, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedInfrastructure.class);
    static final String KAFKA_PROPERTY = "spring.kafka.bootstrap-servers";
    static final String MONGO_PROPERTY = "spring.mongodb.uri";

    private EmbeddedKafkaBroker broker;
    private EmbeddedStore store;

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        ConfigurableEnvironment env = context.getEnvironment();
        Path dataDir = Path.of(env.getProperty("INBOX_DATA_DIR", env.getProperty("inbox.data-dir", "./data"))).toAbsolutePath();
        Map<String, Object> props = new HashMap<>();
        long started = System.nanoTime();
        try {
            if (!env.containsProperty(KAFKA_PROPERTY)) {
                broker = EmbeddedKafkaBroker.start(dataDir.resolve("kafka"));
                props.put(KAFKA_PROPERTY, broker.bootstrapServers());
            }
            if (!env.containsProperty(MONGO_PROPERTY)) {
                store = EmbeddedStore.start(dataDir.resolve("store"), cacheMb(env.getProperty("INBOX_STORE_CACHE_MB", "")));
                props.put(MONGO_PROPERTY, store.uri());
            }
        } catch (RuntimeException e) {
            destroy();
            throw e;
        }
        if (!props.isEmpty()) {
            env.getPropertySources().addFirst(new MapPropertySource("switchboard-embedded", props));
            log.info("embedded {}{} ready under {} in {} ms", broker != null ? "broker" : "",
                    store != null ? (broker != null ? " and store" : "store") : "", dataDir,
                    (System.nanoTime() - started) / 1_000_000);
        }
        DefaultListableBeanFactory beans = (DefaultListableBeanFactory) context.getBeanFactory();
        beans.registerSingleton("embeddedInfrastructure", this);
        beans.registerDisposableBean("embeddedInfrastructure", this);
        if (store != null) {
            beans.registerSingleton("embeddedStoreDurability", (StoreDurability) store::commit);
            // channel-email stores mail over its size limit here (spring.mongodb.uri) and commits before publishing (ADR 0102)
            beans.registerSingleton("embeddedEmailPayloadDurability", (EmailPayloadDurability) store::commit);
            // DOWN once the store failed on H2's own threads and takes no more writes (ADR 0012)
            beans.registerSingleton("embeddedStoreHealthIndicator", (HealthIndicator) store::health);
        }
    }

    static int cacheMb(String setting) {
        if (setting.isBlank()) {
            return EmbeddedStore.defaultCacheMb();
        }
        try {
            int mb = Integer.parseInt(setting.trim());
            if (mb > 0) {
                return mb;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("INBOX_STORE_CACHE_MB must be a positive number of megabytes, not '" + setting + "'");
    }

    @Override
    public void destroy() {
        if (store != null) {
            store.close();
            store = null;
        }
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }
}

package io.switchboard.store;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.mongodb.core.MongoTemplate;

import java.time.Clock;

/** What the store detects about its server, and what may expire in it. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(StoreRetention.Periods.class)
class StoreConfiguration {

    @Bean
    StoreFeatures storeFeatures(MongoTemplate mongo, @Value("${switchboard.store.mongodb-features:auto}") String mode) {
        return StoreFeatures.detect(mongo, !"off".equalsIgnoreCase(mode.trim()));
    }

    @Bean
    StoreRetention storeRetention(MongoTemplate mongo, StoreFeatures features, StoreRetention.Periods periods,
                                  ObjectProvider<Clock> clock) {
        return new StoreRetention(mongo, features, periods, clock.getIfAvailable(Clock::systemUTC));
    }
}

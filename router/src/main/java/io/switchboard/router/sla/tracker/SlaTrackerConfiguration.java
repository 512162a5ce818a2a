package io.switchboard.router.sla.tracker;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;

/** SLA tracking in the router: settings and their defaults. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SlaTrackerProperties.class)
@PropertySource("classpath:switchboard-router-sla.properties")
public class SlaTrackerConfiguration {
}

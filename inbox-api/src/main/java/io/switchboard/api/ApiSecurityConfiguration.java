package io.switchboard.api;

import io.switchboard.api.security.Access;
import io.switchboard.api.security.ApiTokens;
import io.switchboard.api.security.AuditLog;
import io.switchboard.api.security.CachingAuthenticationProvider;
import io.switchboard.api.security.SecurityChains;
import jakarta.servlet.DispatcherType;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.HttpStatusEntryPoint;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.security.web.context.DelegatingSecurityContextRepository;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.context.RequestAttributeSecurityContextRepository;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

import java.time.Clock;

/**
 * Two ways in (ADR 0140). The API (/api/**) is stateless for scripts: HTTP Basic or an API token
 * on every request; the browser UI signs in with the login form, and its session is also accepted
 * on the API, where changes then need the CSRF token. Who may call what comes from one table,
 * {@link io.switchboard.api.security.EndpointRules}. Webhooks and the contact form stay open (they
 * have their own authenticity checks); so does /actuator/health, without details.
 */
@Configuration(proxyBeanMethods = false)
class ApiSecurityConfiguration implements WebMvcConfigurer {

    private final ObjectProvider<AuditLog> audit;

    ApiSecurityConfiguration(ObjectProvider<AuditLog> audit) {
        this.audit = audit;
    }

    /**
     * No observation of Spring Security's filters: with an ObservationRegistry present, every filter of every
     * chain is wrapped in an observation of its own even when those observations are disabled by property, and
     * the wrappers cost about half of a webhook's CPU time (JFR, pipeline benchmark). Requests stay observed
     * as a whole (http.server.requests, traces).
     */
    @Bean
    org.springframework.security.config.observation.SecurityObservationSettings noSpringSecurityObservations() {
        return org.springframework.security.config.observation.SecurityObservationSettings.noObservations();
    }

    @Bean
    PasswordEncoder passwordEncoder() {
        return new BCryptPasswordEncoder();
    }

    @Bean
    CachingAuthenticationProvider cachingAuthenticationProvider(UserDetailsService users, PasswordEncoder encoder,
                                                                ObjectProvider<Clock> clock) {
        return new CachingAuthenticationProvider(users, encoder, clock.getIfAvailable(Clock::systemUTC));
    }

    @Bean
    @Order(1)
    SecurityFilterChain apiSecurity(HttpSecurity http, ApiTokens tokens, UserDetailsService users) throws Exception {
        http.securityMatcher("/api/**", "/v3/api-docs", "/v3/api-docs/**", "/v3/api-docs.yaml")
                .authorizeHttpRequests(auth -> {
                    // SSE and error re-dispatches were authorized on the original request
                    auth.dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR).permitAll();
                    SecurityChains.apply(auth, true);
                    auth.anyRequest().hasRole(Access.ADMIN.roles().get(0));
                })
                .addFilterBefore(SecurityChains.bearer(tokens, users), BasicAuthenticationFilter.class)
                .addFilterBefore(SecurityChains.sessionUserCheck(users), org.springframework.security.web.access.intercept.AuthorizationFilter.class)
                .httpBasic(basic -> basic.authenticationEntryPoint(new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED)))
                .exceptionHandling(e -> e.authenticationEntryPoint(new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED)))
                // Never creates a session, but reads the UI's one: scripts stay stateless.
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.NEVER))
                .securityContext(c -> c.securityContextRepository(new DelegatingSecurityContextRepository(
                        new RequestAttributeSecurityContextRepository(), new HttpSessionSecurityContextRepository())))
                // A browser session is the only credential a cross-site page could make a browser send,
                // so only session-authenticated changes need the CSRF token.
                .csrf(csrf -> csrf.requireCsrfProtectionMatcher(SecurityChains::needsCsrf));
        return http.build();
    }

    /**
     * The actuator (ADR 0143): health stays open for probes and load balancers but shows details only to
     * admins; Prometheus takes the scraper's token (INBOX_METRICS_TOKEN) or an admin; the rest is admins'.
     * Stateless: Basic, API tokens or the scraper's token on each request.
     */
    @Bean
    @Order(0)
    SecurityFilterChain actuatorSecurity(HttpSecurity http, ApiTokens tokens, UserDetailsService users,
                                         @org.springframework.beans.factory.annotation.Value("${INBOX_METRICS_TOKEN:}") String metricsToken)
            throws Exception {
        http.securityMatcher("/actuator", "/actuator/**")
                .authorizeHttpRequests(auth -> {
                    auth.dispatcherTypeMatchers(DispatcherType.ERROR).permitAll();
                    SecurityChains.applyActuator(auth);
                    auth.anyRequest().hasRole(Access.ADMIN.roles().get(0));
                })
                .addFilterBefore(SecurityChains.bearerOrMetrics(tokens, users, metricsToken), BasicAuthenticationFilter.class)
                .addFilterAfter(SecurityChains.healthStatusOnly(), org.springframework.security.web.access.intercept.AuthorizationFilter.class)
                .httpBasic(basic -> basic.authenticationEntryPoint(new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED)))
                .exceptionHandling(e -> e.authenticationEntryPoint(new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED)))
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .csrf(csrf -> csrf.disable()); // no session, no cookie: nothing a cross-site page could ride on
        return http.build();
    }

    @Bean
    @Order(2)
    SecurityFilterChain uiSecurity(HttpSecurity http, UserDetailsService users) throws Exception {
        http.securityMatcher("/", "/dashboard", "/login", "/logout", "/ui/**", "/webjars/**")
                .addFilterBefore(SecurityChains.sessionUserCheck(users), org.springframework.security.web.access.intercept.AuthorizationFilter.class)
                .authorizeHttpRequests(auth -> {
                    SecurityChains.apply(auth, false);
                    auth.anyRequest().authenticated();
                })
                .formLogin(form -> form.loginPage("/login").defaultSuccessUrl("/", false).permitAll())
                // scripts may fetch pages with Basic too; browsers without a session go to the form
                .httpBasic(basic -> basic.authenticationEntryPoint(new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED)))
                .exceptionHandling(e -> e.authenticationEntryPoint(new LoginUrlAuthenticationEntryPoint("/login")))
                .logout(logout -> logout.logoutUrl("/logout").logoutSuccessUrl("/login?logout"))
                .headers(h -> h.contentSecurityPolicy(csp -> csp.policyDirectives(
                        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                + "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")));
        return http.build();
    }

    @Bean
    @Order(100)
    SecurityFilterChain openEndpoints(HttpSecurity http) throws Exception {
        http.authorizeHttpRequests(auth -> auth.anyRequest().permitAll())
                .csrf(csrf -> csrf.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS));
        return http.build();
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        AuditLog log = audit.getIfAvailable();
        if (log != null) {
            registry.addInterceptor(log).addPathPatterns("/api/admin/**");
        }
    }
}

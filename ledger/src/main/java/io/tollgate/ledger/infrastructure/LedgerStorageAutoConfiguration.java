package io.tollgate.ledger.infrastructure;

import javax.sql.DataSource;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.PersistenceExceptionResolver;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenSchema;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.eventsourcing.eventstore.jdbc.EventSchema;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.modelling.saga.repository.SagaStore;
import org.axonframework.modelling.saga.repository.jdbc.JdbcSagaStore;
import org.axonframework.modelling.saga.repository.jdbc.PostgresSagaSqlSchema;
import org.axonframework.modelling.saga.repository.jdbc.SagaSchema;
import org.axonframework.serialization.Serializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Axon's storage in PostgreSQL, declared here rather than left to Axon's own auto-configuration:
 * Axon 4.13's JDBC and transaction auto-configurations wait for Spring Boot 3's class names, so on
 * Boot 4 they never see the data source and silently fall back to an in-memory event store with no
 * transactions. Ordered after Boot's data source and before Axon, this puts the events, snapshots,
 * tokens and sagas in the database Flyway migrated, under Spring's transactions.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration"
    },
    beforeName = {
      "org.axonframework.springboot.autoconfig.AxonAutoConfiguration",
      "org.axonframework.springboot.autoconfig.JdbcAutoConfiguration",
      "org.axonframework.springboot.autoconfig.TransactionAutoConfiguration",
      "org.axonframework.springboot.autoconfig.EventProcessingAutoConfiguration"
    })
public class LedgerStorageAutoConfiguration {

  @Bean
  TransactionManager axonTransactionManager(PlatformTransactionManager transactions) {
    return new SpringTransactionManager(transactions);
  }

  @Bean
  ConnectionProvider axonConnectionProvider(DataSource dataSource) {
    return new UnitOfWorkAwareConnectionProviderWrapper(
        new SpringDataSourceConnectionProvider(dataSource));
  }

  @Bean
  PersistenceExceptionResolver axonPersistenceExceptionResolver() {
    return new PostgresDuplicateKeyResolver();
  }

  /** The table names of V1__axon_event_store.sql, in PostgreSQL's own lower snake case. */
  @Bean
  EventSchema eventSchema() {
    return EventSchema.builder()
        .eventTable("domain_event_entry")
        .snapshotTable("snapshot_event_entry")
        .globalIndexColumn("global_index")
        .timestampColumn("time_stamp")
        .eventIdentifierColumn("event_identifier")
        .aggregateIdentifierColumn("aggregate_identifier")
        .sequenceNumberColumn("sequence_number")
        .typeColumn("type")
        .payloadTypeColumn("payload_type")
        .payloadRevisionColumn("payload_revision")
        .payloadColumn("payload")
        .metaDataColumn("meta_data")
        .build();
  }

  @Bean
  TokenSchema tokenSchema() {
    return TokenSchema.builder()
        .setTokenTable("token_entry")
        .setProcessorNameColumn("processor_name")
        .setSegmentColumn("segment")
        .setTokenColumn("token")
        .setTokenTypeColumn("token_type")
        .setTimestampColumn("timestamp")
        .setOwnerColumn("owner")
        .build();
  }

  @Bean
  EventStorageEngine eventStorageEngine(
      Serializer defaultSerializer,
      @Qualifier("eventSerializer") Serializer eventSerializer,
      PersistenceExceptionResolver exceptions,
      Configuration configuration,
      ConnectionProvider connections,
      TransactionManager transactions,
      EventSchema schema) {
    return JdbcEventStorageEngine.builder()
        .snapshotSerializer(defaultSerializer)
        .eventSerializer(eventSerializer)
        .upcasterChain(configuration.upcasterChain())
        .snapshotFilter(configuration.snapshotFilter())
        .persistenceExceptionResolver(exceptions)
        .connectionProvider(connections)
        .transactionManager(transactions)
        .schema(schema)
        .build();
  }

  /**
   * Tokens in PostgreSQL, claimed under {@code tollgate.ledger.node-id}: by default Axon's {@code
   * pid@host}, unique per machine or container. Two nodes with the same id would both think they
   * hold a claim, so nodes sharing a host and process id (tests, a sandbox) must each set one.
   */
  @Bean
  TokenStore tokenStore(
      ConnectionProvider connections,
      Serializer serializer,
      TokenSchema schema,
      @Value("${tollgate.ledger.node-id:}") String nodeId) {
    JdbcTokenStore.Builder tokens =
        JdbcTokenStore.builder()
            .connectionProvider(connections)
            .schema(schema)
            .serializer(serializer);
    if (!nodeId.isBlank()) {
      tokens.nodeId(nodeId);
    }
    return tokens.build();
  }

  @Bean
  SagaStore<Object> sagaStore(ConnectionProvider connections, Serializer serializer) {
    return JdbcSagaStore.builder()
        .connectionProvider(connections)
        .sqlSchema(
            new PostgresSagaSqlSchema(
                SagaSchema.builder()
                    .sagaEntryTable("saga_entry")
                    .associationValueEntryTable("association_value_entry")
                    .sagaIdColumn("saga_id")
                    .revisionColumn("revision")
                    .sagaTypeColumn("saga_type")
                    .serializedSagaColumn("serialized_saga")
                    .associationKeyColumn("association_key")
                    .associationValueColumn("association_value")
                    .build()))
        .serializer(serializer)
        .build();
  }
}
